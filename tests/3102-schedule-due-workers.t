#!/bin/sh
# tests/3102-schedule-due-workers.t: nothing lost, nothing twice, on SQLite
# and PostgreSQL: four `schedule-due --due` processes over 10,000 due
# actions emit each exactly once; a worker killed with SIGKILL after it
# claimed loses nothing: its actions come back once, after the lease, and
# those whose key was sent meanwhile are closed as done instead.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

T0=$(date -u -d 2026-11-22T10:00:00Z +%s)

q() { # SQL: one statement against $DB
	salesline-db --db "$DB" query "$@"
}

count() { # STATUS: how many actions have it
	q "SELECT count(*) AS n FROM scheduled_actions WHERE status = '$1'" |
		jq -r .n
}

# seed N: N prospects, each with a follow-up due a minute ago
seed() {
	q "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
		WHERE i < $1) INSERT INTO prospects (id, chat, created_at,
		updated_at) SELECT i, CAST(i AS TEXT), 1, 1 FROM n" >/dev/null
	awk -v n="$1" -v due=$((T0 - 60)) 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"prospect\":\"%d\",\"due\":%d,\"reason\":\"r%d\"}\n",
		i, due + i % 7, i }' >"$T/in"
	check_exit "add $1 due follow-ups" 0 \
		env SALESLINE_NOW="$T0" schedule-due --db "$DB" --add <"$T/in"
	check_exit "each is echoed" 0 test "$(wc -l <"$T/out")" -eq "$1"
}

workers() {
	seed 10000
	for w in 1 2 3 4; do
		SALESLINE_NOW=$T0 schedule-due --db "$DB" --due --batch 50 \
			>"$T/w$w" 2>"$T/w$w.err" &
		eval "pid$w=\$!"
	done
	for w in 1 2 3 4; do
		st=0
		eval "wait \$pid$w" || st=$?
		ok "worker $w exits 0" test "$st" -eq 0
		[ "$st" -eq 0 ] || sed 's/^/#   /' "$T/w$w.err"
		echo "# worker $w emitted $(wc -l <"$T/w$w")"
	done
	cat "$T/w1" "$T/w2" "$T/w3" "$T/w4" | jq -r .id | sort >"$T/ids"
	check_exit "no id is emitted twice" 0 test -z "$(uniq -d "$T/ids")"
	check_exit "every id is emitted" 0 \
		test "$(uniq "$T/ids" | wc -l)" -eq 10000
	check_exit "all 10,000 are claimed in the ledger" 0 \
		test "$(count claimed)" -eq 10000
	check_exit "--due again" 0 \
		env SALESLINE_NOW=$((T0 + 60)) schedule-due --db "$DB" --due
	check_exit "emits nothing while the leases hold" 0 test ! -s "$T/out"
}
for_each_db workers

crash() {
	seed 1000
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	# a reader that never reads: the worker blocks once the pipe is full
	exec 3<>"$T/fifo"
	SALESLINE_NOW=$T0 schedule-due --db "$DB" --due --batch 50 \
		>"$T/fifo" 2>"$T/crash.err" &
	pid=$!
	_pids="$_pids $pid"
	last=-1
	i=0
	while [ $i -lt 100 ]; do
		c=$(count claimed)
		[ "$c" -ge 50 ] && [ "$c" -eq "$last" ] && break
		last=$c
		sleep 0.2
		i=$((i + 1))
	done
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || :
	exec 3>&-
	claimed=$(count claimed)
	pending=$(count pending)
	echo "# the killed worker had claimed $claimed"
	check_exit "the killed worker had claimed some, not all" 0 \
		test "$claimed" -gt 0 -a "$pending" -gt 0
	check_exit "nothing is lost from the ledger" 0 \
		test $((claimed + pending)) -eq 1000
	q "SELECT id FROM scheduled_actions WHERE status = 'claimed'" |
		jq -r .id | sort >"$T/claimed"
	q "SELECT id FROM scheduled_actions WHERE status = 'pending'" |
		jq -r .id | sort >"$T/pending"
	# ten of them were sent by the pipeline before it died
	q "INSERT INTO messages (direction, prospect_id, chat, key, status, at,
		sent_at, created_at, updated_at) SELECT 'out', prospect_id,
		CAST(prospect_id AS TEXT), message_key, 'sent', $T0, $T0, $T0,
		$T0 FROM scheduled_actions WHERE id IN (SELECT id FROM
		scheduled_actions WHERE status = 'claimed' ORDER BY id LIMIT 10)" \
		>/dev/null
	q "SELECT a.id FROM scheduled_actions a JOIN messages m ON m.key =
		a.message_key" | jq -r .id | sort >"$T/sent"
	check_exit "within the lease" 0 \
		env SALESLINE_NOW=$((T0 + 299)) schedule-due --db "$DB" --due
	jq -r .id "$T/out" | sort >"$T/got1"
	check_exit "only the unclaimed ones are emitted" 0 \
		cmp "$T/pending" "$T/got1"
	check_exit "after the lease" 0 \
		env SALESLINE_NOW=$((T0 + 300)) schedule-due --db "$DB" --due
	jq -r .id "$T/out" | sort >"$T/got2"
	comm -23 "$T/claimed" "$T/sent" >"$T/want2"
	check_exit "the killed worker's actions come back, less the sent" 0 \
		cmp "$T/want2" "$T/got2"
	check_exit "the sent ones are done" 0 test "$(count 'done')" -eq 10
	sort "$T/got1" "$T/got2" "$T/sent" >"$T/all"
	check_exit "across the runs each action once" 0 \
		test "$(uniq "$T/all" | wc -l)" -eq 1000 -a -z "$(uniq -d "$T/all")"
}
for_each_db crash

done_testing
