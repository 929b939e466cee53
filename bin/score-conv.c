/*
 * score-conv: how good each sales conversation was.
 *
 *   conversation records, or salesline-db export streams -> score lines
 *   --report md|html                                    -> a report
 *
 * Input is JSON lines from the files named, or stdin: self-contained
 * "conversation" records (stress-run), or the records of `salesline-db
 * export` (a "prospect" record, then its messages, scheduled actions and
 * bookings; the next prospect or conversation record, or the end of the
 * file, ends it).  Each conversation gives one score line (lib/score.h
 * scores it; score-conv(1) has the rules and weights).  A bad line is
 * reported with its number and field and skipped, the rest is scored.
 *
 * --judge asks the model of agent-reply (lib/llm.h) for a rubric score of
 * each transcript as well; it is reported apart and mixed into the total
 * by --judge-weight.  When the model cannot be reached the deterministic
 * score is written with a warning, the model is not asked again, and the
 * exit status is 75 (or 77, 69) at the end, so a cron job retries.
 *
 * With --report the report goes to stdout, or to -o FILE and then the
 * score lines still go to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "jsonl.h"
#include "llm.h"
#include "score.h"
#include "sl.h"
#include "timeutil.h"

static const char usage_text[] =
    "usage: score-conv [-v] [--skills DIR] [--slow S] [--judge "
    "[--judge-weight W]]\n"
    "                  [--report md|html [-o FILE] [--previous FILE ...]] "
    "[FILE ...]\n"
    "       score-conv -h\n";

static const char *skills;
static const char *report_fmt;
static const char *oflag;
static int jflag;
static double judge_weight = 0.2;
static long slow_s = -1;
static const char **previous;
static size_t nprevious;

struct ctx {
	struct sl_score_cfg cfg;
	struct sl_conv *open;		/* an export being read */
	struct sl_report *report;
	struct sl_llm *llm;
	int judge_status;		/* exit status of the first failure */
	int judge_stop;			/* the model is not asked again */
	int status;			/* fatal: stop */
};

static SL_NORETURN void
usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	exit(code);
}

static double
number_arg(const char *opt, const char *s, double min, double max)
{
	double v;

	if (sl_option_number(opt, s, min, max, 0, &v) < 0)
		usage(SL_EX_USAGE);
	return v;
}

static void
options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "judge", no_argument, NULL, 'j' },
		{ "judge-weight", required_argument, NULL, 'w' },
		{ "output", required_argument, NULL, 'o' },
		{ "previous", required_argument, NULL, 'p' },
		{ "report", required_argument, NULL, 'r' },
		{ "skills", required_argument, NULL, 's' },
		{ "slow", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(SL_EX_OK);
		case 'j': jflag = 1; break;
		case 'w':
			judge_weight = number_arg("--judge-weight", optarg, 0,
			    1);
			break;
		case 'o': oflag = optarg; break;
		case 'p':
			previous = sl_realloc(previous, (nprevious + 1) *
			    sizeof *previous);
			previous[nprevious++] = optarg;
			break;
		case 'r':
			if (strcmp(optarg, "md") != 0 &&
			    strcmp(optarg, "html") != 0) {
				sl_error("--report: expected md or html, not "
				    "'%.32s'", optarg);
				usage(SL_EX_USAGE);
			}
			report_fmt = optarg;
			break;
		case 's': skills = optarg; break;
		case 'S':
			slow_s = (long)number_arg("--slow", optarg, 1, 86400);
			break;
		case 'v': sl_verbose = 1; break;
		default:
			sl_option_error(c, argv);
			usage(SL_EX_USAGE);
		}
	}
	if ((oflag || nprevious) && report_fmt == NULL) {
		sl_error("-o and --previous go with --report");
		usage(SL_EX_USAGE);
	}
}

static const char judge_system[] =
    "You grade one conversation between a sales assistant and a prospect "
    "for a CRM implementation company. Score it from 0 to 100 on this "
    "rubric: qualification (the assistant learned the need, budget, "
    "authority and timeline, one question at a time), methodology (it "
    "moved towards a meeting without pushing, handled objections, did not "
    "repeat itself), tone (polite, short, formal address in Russian, the "
    "prospect's language, no pressure), outcome (a meeting booked with an "
    "e-mail, a follow-up when asked, a human when needed). Answer with "
    "one JSON object and nothing else: {\"score\": N, \"rationale\": "
    "\"one sentence\"}.";

/* The transcript for the model: one line per message, at most 32 KB. */
static char *
transcript(const struct sl_conv *c)
{
	static const char *const who[] = { "prospect", "assistant", "rep" };
	struct sl_buf b = { NULL, 0, 0 };
	char tb[SL_TIME_BUFSZ], *line;
	size_t i;

	for (i = 0; i < c->nm && b.len < 32768; i++) {
		const struct sl_conv_msg *m = &c->m[i];

		line = sl_asprintf("[%s] %s: %.*s\n", m->at >= 0 ?
		    sl_time_fmt(m->at, tb) : "?", who[m->by],
		    (int)(m->len > 2000 ? 2000 : m->len), m->text);
		sl_buf_add(&b, line, strlen(line));
		free(line);
	}
	if (b.s == NULL)
		sl_buf_add(&b, "(no messages)\n", 14);
	return b.s;
}

/* The judge's object from the model's text: {score, rationale}, or null. */
static jv
judge_parse(const char *text)
{
	const char *a = strchr(text, '{'), *z = strrchr(text, '}');
	const char *why = NULL;
	double score;
	jv v, out = jv_null();

	if (a == NULL || z == NULL || z < a)
		return out;
	v = sl_parse(a, (size_t)(z - a + 1));
	if (jv_get_kind(v) == JV_KIND_OBJECT &&
	    sl_get_num(v, "score", &score) == 1 && score >= 0 &&
	    score <= 100) {
		out = jv_object();
		out = sl_set(out, "score", jv_number(round(score)));
		if (sl_get_str(v, "rationale", &why) == 1)
			out = sl_set(out, "rationale",
			    jv_string_fmt("%.300s", why));
	}
	jv_free(v);
	return out;
}

static void
judge(struct ctx *x, struct sl_conv *c)
{
	struct sl_svc_err err;
	char *text;
	const char *said = "";
	jv msgs, tools, ans = jv_null(), j;
	int st;

	if (x->judge_stop) {
		c->judge = JV_OBJECT(jv_string("error"), jv_string("not asked: "
		    "the model failed earlier in this run"));
		return;
	}
	memset(&err, 0, sizeof err);
	text = transcript(c);
	msgs = JV_ARRAY(JV_OBJECT(jv_string("role"), jv_string("user"),
	    jv_string("text"), jv_string(text)));
	tools = jv_array();
	free(text);
	st = sl_llm_complete(x->llm, judge_system, msgs, tools, 300, &ans,
	    &err);
	jv_free(msgs);
	jv_free(tools);
	if (st < 0) {
		sl_warn("conversation '%s': the judge failed (%s): %s; the "
		    "deterministic score stands", c->id, err.reason,
		    err.message);
		c->judge = JV_OBJECT(jv_string("error"),
		    jv_string(err.message));
		if (x->judge_status == 0)
			x->judge_status = sl_svc_exit_code(&err);
		if (err.class != SL_HTTP_PERMANENT || err.status == 401 ||
		    err.status == 403)
			x->judge_stop = 1;
		return;
	}
	sl_get_str(ans, "text", &said);
	j = judge_parse(said ? said : "");
	if (jv_get_kind(j) != JV_KIND_OBJECT) {
		sl_warn("conversation '%s': the judge's answer has no score "
		    "from 0 to 100; the deterministic score stands", c->id);
		jv_free(j);
		j = JV_OBJECT(jv_string("error"), jv_string("no score in the "
		    "answer"));
		if (x->judge_status == 0)
			x->judge_status = SL_EX_UNAVAILABLE;
	}
	j = sl_set(j, "model", jv_string(sl_llm_model(x->llm)));
	jv_free(ans);
	c->judge = j;
}

/* Scores c (taken over), writes its line, keeps it for the report. */
static int
finish(struct ctx *x, struct sl_conv *c)
{
	struct sl_score s;
	jv rec, js;
	int rc = 0;

	sl_conv_finish(c);
	sl_score_conv(&x->cfg, c, &s);
	if (jflag)
		judge(x, c);
	if (!x->report || oflag) {
		rec = sl_score_record(c, &s);
		js = jv_get_kind(c->judge) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(c->judge), jv_string("score")) :
		    jv_null();
		if (jflag) {
			rec = sl_set(rec, "judge", jv_copy(c->judge));
			rec = sl_set(rec, "deterministic", jv_number(s.total));
		}
		if (jv_get_kind(js) == JV_KIND_NUMBER)
			rec = sl_set(rec, "total", jv_number(round((1 -
			    judge_weight) * s.total + judge_weight *
			    jv_number_value(js))));
		jv_free(js);
		rc = sl_emit(rec);
	}
	if (x->report) {
		sl_report_add(x->report, c, &s);
	} else {
		sl_score_free(&s);
		sl_conv_free(c);
	}
	return rc;
}

static int
flush_open(struct ctx *x)
{
	struct sl_conv *c = x->open;

	x->open = NULL;
	return c ? finish(x, c) : 0;
}

static int
on_record(struct sl_reader *r, jv rec, void *arg)
{
	struct ctx *x = arg;
	const char *type = NULL;
	char err[256];
	struct sl_conv *c;
	int rc = 0;

	if (sl_get_str(rec, "type", &type) != 1) {
		jv_free(rec);
		return sl_reader_reject(r, "'type': expected a string");
	}
	if (strcmp(type, "conversation") == 0 ||
	    strcmp(type, "prospect") == 0) {
		if (flush_open(x) < 0)
			rc = -1;
		c = type[0] == 'c' ? sl_conv_from_record(rec, err, sizeof err) :
		    sl_conv_from_prospect(rec, err, sizeof err);
		if (c)
			c->line = sl_reader_lineno(r);
		if (c == NULL)
			rc = sl_reader_reject(r, "%s", err);
		else if (type[0] == 'c')
			rc = finish(x, c) < 0 ? -1 : rc;
		else
			x->open = c;
	} else if (x->open) {
		if (sl_conv_add(x->open, rec, err, sizeof err) < 0)
			rc = sl_reader_reject(r, "%s", err);
	} else if (strncmp(type, "message.", 8) == 0 ||
	    strcmp(type, "scheduled_action") == 0 ||
	    strcmp(type, "booking") == 0) {
		rc = sl_reader_reject(r, "a '%.32s' record before any "
		    "prospect or conversation record", type);
	}
	jv_free(rec);
	return sl_out_status() ? SL_EX_IOERR : rc;
}

/*
 * The records of f, called name: 0, SL_EX_IOERR after a read or write
 * error; *rejected counts the lines rejected.
 */
static int
read_stream(struct ctx *x, FILE *f, const char *name,
    unsigned long *rejected)
{
	struct sl_reader *r = sl_reader_new(f, name);
	int rc, st = 0, h;
	jv rec;

	while ((rc = sl_reader_next(r, &rec)) == 1) {
		h = on_record(r, rec, x);
		if (h > 1) {
			st = h;
			break;
		}
	}
	if (st == 0 && rc < 0)
		st = SL_EX_IOERR;
	if (flush_open(x) < 0 || sl_out_status())
		st = SL_EX_IOERR;
	*rejected += sl_reader_rejected(r);
	sl_reader_free(r);
	return st;
}

/* An earlier run's score lines: their mean total, for the trend. */
static int
read_previous(struct ctx *x, const char *path, unsigned long *rejected)
{
	FILE *f = fopen(path, "r");
	struct sl_reader *r;
	const char *base = strrchr(path, '/'), *type;
	double sum = 0, t;
	size_t n = 0;
	jv rec;
	int rc;

	if (f == NULL) {
		sl_error("cannot open '%s': %s", path, strerror(errno));
		return SL_EX_IOERR;
	}
	r = sl_reader_new(f, path);
	while ((rc = sl_reader_next(r, &rec)) == 1) {
		if (sl_get_str(rec, "type", &type) == 1 &&
		    strcmp(type, "score") == 0) {
			if (sl_get_num(rec, "total", &t) == 1) {
				sum += t;
				n++;
			} else {
				sl_reader_reject(r, "'total': expected a "
				    "number");
			}
		}
		jv_free(rec);
	}
	*rejected += sl_reader_rejected(r);
	sl_reader_free(r);
	fclose(f);
	if (rc < 0)
		return SL_EX_IOERR;
	sl_report_previous(x->report, base ? base + 1 : path,
	    n ? sum / (double)n : 0, n);
	return 0;
}

static int
write_report(struct ctx *x, unsigned long rejected)
{
	FILE *f = stdout;
	int rc;

	if (oflag && (f = fopen(oflag, "w")) == NULL) {
		sl_error("cannot create '%s': %s", oflag, strerror(errno));
		return SL_EX_IOERR;
	}
	rc = sl_report_write(x->report, f, rejected);
	if (oflag && fclose(f) != 0)
		rc = -1;
	if (rc < 0 || (!oflag && sl_out_close() != 0)) {
		if (oflag)
			sl_error("cannot write '%s': %s", oflag,
			    strerror(errno));
		else
			sl_error("cannot write the report: %s",
			    strerror(errno));
		return SL_EX_IOERR;
	}
	return 0;
}

static int
run(struct ctx *x, int argc, char **argv)
{
	unsigned long rejected = 0;
	int st = 0, i, s;
	FILE *f;

	for (i = 0; i < (int)nprevious; i++)
		if ((s = read_previous(x, previous[i], &rejected)) && !st)
			st = s;
	if (optind >= argc)
		st = read_stream(x, stdin, "stdin", &rejected);
	for (i = optind; i < argc && st != SL_EX_IOERR; i++) {
		if (strcmp(argv[i], "-") == 0) {
			s = read_stream(x, stdin, "stdin", &rejected);
		} else if ((f = fopen(argv[i], "r")) == NULL) {
			sl_error("cannot open '%s': %s", argv[i],
			    strerror(errno));
			s = SL_EX_IOERR;
		} else {
			s = read_stream(x, f, argv[i], &rejected);
			fclose(f);
		}
		if (s && !st)
			st = s;
	}
	if (x->report && st != SL_EX_IOERR &&
	    (s = write_report(x, rejected)) && !st)
		st = s;
	if (!st && x->judge_status)
		st = x->judge_status;
	if (!st && rejected)
		st = SL_EX_REJECT;
	return st;
}

int
main(int argc, char **argv)
{
	struct ctx x;
	char err[512], *dir;
	int st;

	sl_init("score-conv");
	options(argc, argv);
	memset(&x, 0, sizeof x);
	dir = skills ? sl_strdup(skills) : sl_asprintf("%s/skills",
	    sl_home());
	if (sl_score_cfg_load(&x.cfg, dir, err, sizeof err) < 0)
		sl_die(SL_EX_CONFIG, "skills '%s': %s (set SALESLINE_HOME or "
		    "--skills)", dir, err);
	free(dir);
	if (slow_s > 0)
		x.cfg.slow_s = slow_s;
	if (jflag && (x.llm = sl_llm_open()) == NULL)
		sl_die(SL_EX_CONFIG, "--judge needs a model: set LLM_PROVIDER "
		    "and its key (ANTHROPIC_API_KEY, OPENAI_API_KEY or "
		    "LLM_API_KEY)");
	if (report_fmt)
		x.report = sl_report_new(strcmp(report_fmt, "html") == 0 ?
		    SL_REPORT_HTML : SL_REPORT_MD);
	st = run(&x, argc, argv);
	if ((!x.report || oflag) && sl_out_close() != 0 && st != SL_EX_IOERR)
		st = SL_EX_IOERR;
	sl_report_free(x.report);
	sl_score_cfg_free(&x.cfg);
	if (x.llm)
		sl_llm_close(x.llm);
	sl_http_cleanup();
	free(previous);
	return st;
}
