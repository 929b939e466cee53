#!/usr/bin/python3
"""tests/bench/aps-sched.py: what tests/bench/sched.c measures for
schedule-due, done by APScheduler 3 with its SQLAlchemy job store on an
SQLite file (Debian's python3-apscheduler and python3-sqlalchemy).

    tick   the scheduler's check with nothing due over PENDING jobs due in
           a month: the job store's get_due_jobs and get_next_run_time, as
           _process_jobs calls them (median of 21), and the same from a new
           interpreter, as a cron job would run it
    add    scheduler.add_job of N one-off jobs, scheduler running (paused)
    claim  N jobs due in the past hour: from resume() until every one ran
           and left the store

usage: aps-sched.py [PENDING] [N]     (default 1000000 10000)

N is smaller than schedule-due's 100,000 because APScheduler commits every
job on its own (each add_job and each removal of a job that ran is a
transaction with its fsync): 100,000 would take the better part of an
hour.  The figures are rates, so they compare all the same.

Prints one line, or a "# skipped" line when APScheduler or SQLAlchemy is
not importable.  APScheduler has no claim between processes: two
schedulers on one job store run a job twice, so its figures are for one
process only.
"""
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

# this file's own name would shadow the package
_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]

try:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    import apscheduler
    import sqlalchemy  # noqa: F401
except ImportError as e:
    print(f"# apscheduler: skipped ({e})")
    sys.exit(0)

PENDING = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
N = int(sys.argv[2]) if len(sys.argv) > 2 else 10000

ran = 0
ran_lock = threading.Lock()


def job(i):
    global ran
    with ran_lock:
        ran += 1


def scheduler_for(url):
    s = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=url)},
        job_defaults={"misfire_grace_time": None, "coalesce": False},
        timezone=timezone.utc)
    s.start(paused=True)
    return s


def seed(sched, store, now):
    """PENDING jobs due in a month, written in bulk (add_job would take
    far longer): the same pickled state add_job stores."""
    sched.add_job(job, "date", run_date=now + timedelta(days=30), args=[0],
                  id="template")
    template = store.lookup_job("template").__getstate__()
    store.remove_job("template")
    rows = []
    with store.engine.begin() as conn:
        for i in range(1, PENDING + 1):
            run = now + timedelta(days=30, seconds=i)
            st = dict(template, id=f"p{i}", args=(i,), next_run_time=run)
            st["trigger"] = template["trigger"].__class__(run_date=run)
            rows.append({"id": st["id"], "next_run_time": run.timestamp(),
                         "job_state": pickle.dumps(st, 4)})
            if len(rows) == 10000:
                conn.execute(store.jobs_t.insert(), rows)
                rows = []
        if rows:
            conn.execute(store.jobs_t.insert(), rows)


COLD = """
import sys, time
t0 = time.monotonic()
from datetime import datetime, timezone
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
s = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=sys.argv[1])},
                        timezone=timezone.utc)
s.start(paused=True)
st = s._lookup_jobstore("default")
now = datetime.now(timezone.utc)
assert not st.get_due_jobs(now)
st.get_next_run_time()
s.shutdown(wait=False)
"""


def main():
    d = tempfile.mkdtemp(prefix="sl-bench-aps.")
    path = os.path.join(d, "jobs.sqlite")
    url = "sqlite:///" + path
    now = datetime.now(timezone.utc)
    sched = scheduler_for(url)
    store = sched._lookup_jobstore("default")
    try:
        seed(sched, store, now)

        ticks = []
        for _ in range(21):
            t0 = time.monotonic()
            t = datetime.now(timezone.utc)
            assert not store.get_due_jobs(t)
            store.get_next_run_time()
            ticks.append(time.monotonic() - t0)
        ticks.sort()
        cold = []
        for _ in range(5):
            t0 = time.monotonic()
            subprocess.run([sys.executable, "-c", COLD, url], check=True)
            cold.append(time.monotonic() - t0)
        cold.sort()

        t0 = time.monotonic()
        for k in range(N):
            run = now - timedelta(seconds=3600 - k * 3600 // N)
            sched.add_job(job, "date", run_date=run, args=[k], id=f"a{k}")
        t_add = time.monotonic() - t0

        t0 = time.monotonic()
        sched.resume()
        while True:
            with ran_lock:
                done = ran
            if done >= N and not store.get_due_jobs(
                    datetime.now(timezone.utc)):
                break
            time.sleep(0.01)
        t_claim = time.monotonic() - t0
        sched.shutdown(wait=True)
        print(f"apscheduler {apscheduler.__version__} sqlite: tick with "
              f"nothing due over {PENDING} pending: {ticks[10] * 1e3:.1f} ms "
              f"in process ({cold[2] * 1e3:.0f} ms as a new process); "
              f"add {N}: {N / t_add:.0f}/s; run {N} due: "
              f"{N / t_claim:.0f}/s (one process only)")
    finally:
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)


if __name__ == "__main__":
    main()
