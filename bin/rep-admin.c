/*
 * rep-admin: register and manage sales reps, hand a chat to a human and
 * back, connect a rep's calendar, verify the Zoom account.
 *
 *   add NAME [REP OPTIONS]       a new rep                  -> rep
 *   add --update NAME ...        a new rep, or change one   -> rep
 *   set NAME [--rename NEW] ...  change the options given   -> rep
 *   list [--all], show NAME      enabled (or all) reps      -> rep
 *   disable NAME, enable NAME                               -> rep
 *   takeover --prospect ID on|off [--rep NAME]
 *                                -> human.takeover, human.handback
 *   calendar connect NAME [--device] [--timeout S], calendar disconnect
 *   NAME                                                    -> rep
 *   zoom verify [NAME]                                      -> zoom.account
 *
 * Every change runs in one transaction that also writes an audit row
 * (its detail names the columns changed, never their values); with -n it
 * is rolled back and the record shows what would have been.  tg-fetch
 * creates reps from Telegram Business connections with a generated name
 * (the username, or tg<user id>); add refuses a name or a Telegram user
 * that is taken, and set --rename gives such a rep its proper name.
 *
 * A takeover does what tg-fetch does when the rep types in a business
 * chat: human_active, human_since, and the pending follow-ups cancelled
 * with reason human_takeover (meeting reminders stay; schedule-due
 * cancels those that come due while the human has the chat).  Handing
 * back brings nothing back.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "jsonl.h"
#include "rep.h"
#include "sched.h"
#include "sl.h"
#include "timeutil.h"
#include "google.h"
#include "zoom.h"

static const char usage_text[] =
    "usage: rep-admin [-nv] [--db URL] add [--update] NAME [REP OPTIONS]\n"
    "       rep-admin [-nv] [--db URL] set NAME [--rename NEW] "
    "[REP OPTIONS]\n"
    "       rep-admin [-v] [--db URL] list [--all]\n"
    "       rep-admin [-v] [--db URL] show NAME\n"
    "       rep-admin [-nv] [--db URL] disable NAME\n"
    "       rep-admin [-nv] [--db URL] enable NAME\n"
    "       rep-admin [-nv] [--db URL] takeover --prospect ID on|off "
    "[--rep NAME]\n"
    "       rep-admin [-nv] [--db URL] calendar connect NAME [--device] "
    "[--timeout S]\n"
    "       rep-admin [-nv] [--db URL] calendar disconnect NAME\n"
    "       rep-admin [-v] [--db URL] zoom verify [NAME]\n"
    "       rep-admin -h\n"
    "rep options: [--display-name S] [--email E] [--tg-user ID]\n"
    "       [--business-connection ID] [--bot ID] [--tz ZONE]\n"
    "       [--hours JSON | --hours-file F] [--slot MIN] "
    "[--buffer-before MIN]\n"
    "       [--buffer-after MIN] [--notice MIN] [--horizon DAYS] "
    "[--daily-cap N]\n"
    "       [--ics PATH] [--zoom-user U] [--calendar ID]...\n";

enum { ADD = 1, SET = 2, LIST = 4, SHOW = 8, DISABLE = 16, ENABLE = 32,
	TAKEOVER = 64, CALENDAR = 128, ZOOM = 256 };

static const struct {
	const char *name;
	int cmd, min, max;		/* positional arguments after it */
} commands[] = {
	{ "add", ADD, 1, 1 }, { "set", SET, 1, 1 }, { "list", LIST, 0, 0 },
	{ "show", SHOW, 1, 1 }, { "disable", DISABLE, 1, 1 },
	{ "enable", ENABLE, 1, 1 }, { "takeover", TAKEOVER, 1, 1 },
	{ "calendar", CALENDAR, 2, 2 }, { "zoom", ZOOM, 1, 2 },
};

/* How a rep option's value is checked and stored. */
enum { TEXT, WORD, DIGITS, EMAIL, ZONE, HOURS, HOURS_FILE, NUMBER, CAP,
	PATH, CALENDAR_ID, NAME };

/*
 * The options of add and set, each a column of reps; --hours and
 * --hours-file side by side, --calendar and --rename last.
 */
static const struct field {
	const char *opt, *col;
	int kind;
	long min, max;
} fields[] = {
	{ "display-name", "display_name", TEXT, 0, 200 },
	{ "email", "email", EMAIL, 0, 254 },
	{ "tg-user", "tg_user_id", DIGITS, 0, 20 },
	{ "business-connection", "business_connection", WORD, 0, 256 },
	{ "bot", "bot", DIGITS, 0, 20 },
	{ "tz", "tz", ZONE, 0, 64 },
	{ "hours", "working_hours", HOURS, 0, 0 },
	{ "hours-file", "working_hours", HOURS_FILE, 0, 0 },
	{ "slot", "slot_min", NUMBER, 5, 480 },
	{ "buffer-before", "buffer_before_min", NUMBER, 0, 240 },
	{ "buffer-after", "buffer_after_min", NUMBER, 0, 240 },
	{ "notice", "notice_min", NUMBER, 0, 43200 },
	{ "horizon", "horizon_days", NUMBER, 1, 365 },
	{ "daily-cap", "daily_cap", CAP, 1, 100 },
	{ "ics", "ics_path", PATH, 0, 4096 },
	{ "zoom-user", "zoom_user", WORD, 0, 128 },
	{ "calendar", "calendar_ids", CALENDAR_ID, 0, 256 },
	{ "rename", "name", NAME, 0, 0 },
};
#define NFIELDS (sizeof fields / sizeof fields[0])
#define F_CALENDAR (NFIELDS - 2)
#define F_RENAME (NFIELDS - 1)

enum { O_UPDATE = 512, O_ALL, O_PROSPECT, O_REP, O_DEVICE, O_TIMEOUT,
	O_DB };

/* The other options: which commands take them. */
static const struct {
	const char *opt;
	int has_arg, val, cmds;
} others[] = {
	{ "update", no_argument, O_UPDATE, ADD },
	{ "all", no_argument, O_ALL, LIST },
	{ "prospect", required_argument, O_PROSPECT, TAKEOVER },
	{ "rep", required_argument, O_REP, TAKEOVER },
	{ "device", no_argument, O_DEVICE, CALENDAR },
	{ "timeout", required_argument, O_TIMEOUT, CALENDAR },
	{ "db", required_argument, O_DB, ~0 },
	{ "dry-run", no_argument, 'n', ~0 },
	{ "verbose", no_argument, 'v', ~0 },
	{ "help", no_argument, 'h', ~0 },
};
#define NOTHERS (sizeof others / sizeof others[0])

static const char *dbflag, *repflag;
static int64_t prospectflag;
static int nflag, allflag, updateflag, deviceflag;
static long timeoutflag = 300;
static int given[NFIELDS];		/* 1: the option was given */
static jv vals[NFIELDS];		/* its value, when given */
static int used[NOTHERS];		/* 1: that option was given */

static SL_NORETURN void
usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	exit(code);
}

static int
fail(struct sl_db *db)
{
	int st = sl_db_exit_code(db);

	sl_error("%s", sl_db_error(db));
	sl_db_rollback(db);
	return st;
}

/* Values. */

/* A decimal number in [min, max] or exit 64 naming the option. */
static long
number(const char *opt, const char *s, long min, long max)
{
	char *name = sl_asprintf("--%s", opt);
	double v;
	int rc = sl_option_number(name, s, (double)min, (double)max, 1, &v);

	free(name);
	if (rc < 0)
		exit(SL_EX_USAGE);
	return (long)v;
}

/* 1 when s has no control character (and no space when word is set). */
static int
printable(const char *s, int word)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f ||
		    (word && *s == ' '))
			return 0;
	return 1;
}

/* A plausible address: local@domain.tld, no spaces, labels of [A-Za-z0-9-]. */
static int
email_ok(const char *s)
{
	const char *at = strchr(s, '@'), *p;
	size_t label = 0;
	int dots = 0;

	if (at == NULL || at == s || at - s > 64 || strchr(at + 1, '@') ||
	    s[0] == '.' || at[-1] == '.' || strstr(s, "..") || !printable(s, 1))
		return 0;
	for (p = s; p < at; p++)
		if (strchr("\"(),:;<>[\\]", *p))
			return 0;
	for (p = at + 1;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || p[-1] == '-')
				return 0;
			if (*p == '\0')
				break;
			dots++;
			label = 0;
		} else if ((*p == '-' && label > 0) ||
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || (unsigned char)*p >= 0x80) {
			label++;
		} else {
			return 0;
		}
	}
	return dots > 0;
}

/* The working hours of text as canonical JSON text, or exit 64. */
static jv
hours_value(const char *opt, const char *text)
{
	struct sl_rep_hours h;
	char err[160], *s;
	jv v;

	if (sl_rep_hours_parse(text, &h, err, sizeof err) < 0)
		sl_die(SL_EX_USAGE, "--%s: %s", opt, err);
	s = sl_rep_hours_format(&h);
	v = jv_string(s);
	free(s);
	return v;
}

/* The contents of --hours-file, or exit 64. */
static jv
hours_file(const char *path)
{
	char buf[65536];
	size_t n;
	FILE *f;
	int e;

	if ((f = fopen(path, "r")) == NULL)
		sl_die(SL_EX_USAGE, "--hours-file: cannot read '%s': %s", path,
		    strerror(errno));
	n = fread(buf, 1, sizeof buf - 1, f);
	if ((e = ferror(f) ? errno : 0) != 0 || !feof(f)) {
		fclose(f);
		sl_die(SL_EX_USAGE, "--hours-file: cannot read '%s': %s", path,
		    e ? strerror(e) : "longer than 64 KiB");
	}
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n == 0)
		sl_die(SL_EX_USAGE, "--hours-file: '%s' is empty", path);
	return hours_value("hours-file", buf);
}

/*
 * The value of a rep option as it goes into the ledger (a string, a
 * number, or null: clear it), or exit 64 with a message naming it.
 */
static jv
field_value(const struct field *f, const char *s)
{
	size_t len = strlen(s), i;

	if (len == 0 && f->kind != NUMBER && f->kind != NAME &&
	    f->kind != HOURS_FILE)
		return jv_null();
	if (f->max > 0 && f->kind != NUMBER && f->kind != CAP &&
	    len > (size_t)f->max)
		sl_die(SL_EX_USAGE, "--%s: longer than %ld bytes", f->opt,
		    f->max);
	switch (f->kind) {
	case TEXT:
	case WORD:
	case CALENDAR_ID:
	case PATH:
		if (!printable(s, f->kind == WORD || f->kind == CALENDAR_ID))
			sl_die(SL_EX_USAGE, "--%s: no %scontrol characters, "
			    "please", f->opt, f->kind == TEXT ||
			    f->kind == PATH ? "" : "spaces or ");
		if (f->kind == PATH && access(s, R_OK) != 0)
			sl_warn("--ics: cannot read '%s' now: %s", s,
			    strerror(errno));
		return jv_string(s);
	case DIGITS:
		for (i = 0; s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (s[i] != '\0')
			sl_die(SL_EX_USAGE, "--%s: expected a Telegram id "
			    "(digits), not '%s'", f->opt, s);
		return jv_string(s);
	case EMAIL:
		if (!email_ok(s))
			sl_die(SL_EX_USAGE, "--email: '%s' is not an e-mail "
			    "address", s);
		return jv_string(s);
	case ZONE:
		if (sl_zone_load(s) == NULL)
			sl_die(SL_EX_USAGE, "--tz: unknown time zone '%s'", s);
		return jv_string(s);
	case HOURS:
		return hours_value(f->opt, s);
	case HOURS_FILE:
		return hours_file(s);
	case CAP:
		if (strcmp(s, "none") == 0)
			return jv_null();
		return jv_number(number(f->opt, s, f->min, f->max));
	case NUMBER:
		return jv_number(number(f->opt, s, f->min, f->max));
	default:
		if (!sl_rep_name_ok(s))
			sl_die(SL_EX_USAGE, "--rename: '%s' is not a rep name: "
			    "1 to 64 of a-z 0-9 _ . - and not all digits", s);
		return jv_string(s);
	}
}

/*
 * --calendar ID, again and again: a JSON array of the ids as text; ''
 * forgets the ids before it (null: none).
 */
static void
add_calendar(const char *id)
{
	jv v = field_value(&fields[F_CALENDAR], id), list = jv_array();
	const char *s;

	if (given[F_CALENDAR] &&
	    jv_get_kind(vals[F_CALENDAR]) == JV_KIND_STRING) {
		s = jv_string_value(vals[F_CALENDAR]);
		jv_free(list);
		list = sl_parse(s, strlen(s));
	}
	if (given[F_CALENDAR])
		jv_free(vals[F_CALENDAR]);
	given[F_CALENDAR] = 1;
	if (jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(list);
		vals[F_CALENDAR] = v;
		return;
	}
	vals[F_CALENDAR] = jv_dump_string(jv_array_append(list, v), 0);
}

/* Options. */

static void
set_field(int i, const char *arg)
{
	int other = fields[i].kind == HOURS ? i + 1 :
	    fields[i].kind == HOURS_FILE ? i - 1 : i;

	if (i == (int)F_CALENDAR) {
		add_calendar(arg);
		return;
	}
	if (given[i])
		sl_die(SL_EX_USAGE, "--%s: given twice", fields[i].opt);
	if (given[other])
		sl_die(SL_EX_USAGE, "--hours and --hours-file do not go "
		    "together");
	vals[i] = field_value(&fields[i], arg);
	given[i] = 1;
}

static void
options(int argc, char **argv)
{
	struct option longopts[NFIELDS + NOTHERS + 1];
	size_t i;
	int c;

	for (i = 0; i < NFIELDS; i++)
		longopts[i] = (struct option){ fields[i].opt,
		    required_argument, NULL, 256 + (int)i };
	for (i = 0; i < NOTHERS; i++)
		longopts[NFIELDS + i] = (struct option){ others[i].opt,
		    others[i].has_arg, NULL, others[i].val };
	longopts[NFIELDS + NOTHERS] = (struct option){ NULL, 0, NULL, 0 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hnv", longopts, NULL)) != -1) {
		for (i = 0; i < NOTHERS; i++)
			if (others[i].val == c)
				used[i] = 1;
		if (c >= 256 && c < 256 + (int)NFIELDS) {
			set_field(c - 256, optarg);
			continue;
		}
		switch (c) {
		case O_UPDATE: updateflag = 1; break;
		case O_ALL: allflag = 1; break;
		case O_PROSPECT:
			if ((prospectflag = sl_sched_id(optarg)) <= 0)
				sl_die(SL_EX_USAGE, "--prospect: expected a "
				    "ledger id, not '%s'", optarg);
			break;
		case O_REP: repflag = optarg; break;
		case O_DEVICE: deviceflag = 1; break;
		case O_TIMEOUT:
			timeoutflag = number("timeout", optarg, 1, 3600);
			break;
		case O_DB: dbflag = optarg; break;
		case 'n': nflag = 1; break;
		case 'v': sl_verbose = 1; break;
		case 'h': usage(SL_EX_OK);
		default:
			sl_option_error(c, argv);
			usage(SL_EX_USAGE);
		}
	}
}

static int
used_opt(int val)
{
	size_t i;

	for (i = 0; i < NOTHERS; i++)
		if (others[i].val == val)
			return used[i];
	return 0;
}

/* The command in argv[0] and its arguments; exits 64 when they do not fit. */
static int
command(int argc, char **argv)
{
	size_t i;
	int cmd, nargs = argc - 1;

	if (argc < 1) {
		sl_error("say what to do: add, set, list, show, disable, "
		    "enable, takeover, calendar or zoom");
		usage(SL_EX_USAGE);
	}
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			break;
	if (i == sizeof commands / sizeof commands[0]) {
		sl_error("unknown command '%s'", argv[0]);
		usage(SL_EX_USAGE);
	}
	cmd = commands[i].cmd;
	if (nargs < commands[i].min)
		sl_error("%s: %s", argv[0], cmd == TAKEOVER ? "on or off?" :
		    cmd == CALENDAR ? "connect or disconnect which rep?" :
		    cmd == ZOOM ? "verify what?" : "which rep? give its name");
	else if (nargs > commands[i].max)
		sl_error("unexpected argument '%s'", argv[commands[i].max + 1]);
	else if (cmd == TAKEOVER && strcmp(argv[1], "on") &&
	    strcmp(argv[1], "off"))
		sl_error("takeover: expected on or off, not '%s'", argv[1]);
	else if (cmd == TAKEOVER && prospectflag == 0)
		sl_error("takeover needs --prospect");
	else if (cmd == CALENDAR && strcmp(argv[1], "connect") &&
	    strcmp(argv[1], "disconnect"))
		sl_error("calendar: expected connect or disconnect, not '%s'",
		    argv[1]);
	else if (cmd == CALENDAR && strcmp(argv[1], "connect") &&
	    (deviceflag || used_opt(O_TIMEOUT)))
		sl_error("--device and --timeout go with calendar connect");
	else if (cmd == ZOOM && strcmp(argv[1], "verify"))
		sl_error("zoom: expected verify, not '%s'", argv[1]);
	else if (cmd == ADD && !sl_rep_name_ok(argv[1]))
		sl_die(SL_EX_USAGE, "'%s' is not a rep name: 1 to 64 of a-z "
		    "0-9 _ . - and not all digits", argv[1]);
	else
		goto options;
	usage(SL_EX_USAGE);
options:
	for (i = 0; i < NFIELDS; i++)
		if (given[i] && !(cmd & (ADD | SET)))
			sl_die(SL_EX_USAGE, "--%s goes with add or set",
			    fields[i].opt);
	for (i = 0; i < NOTHERS; i++)
		if (used[i] && !(others[i].cmds & cmd))
			sl_die(SL_EX_USAGE, "--%s does not go with %s",
			    others[i].opt, argv[0]);
	if (given[F_RENAME] && cmd == ADD && !updateflag)
		sl_die(SL_EX_USAGE, "--rename goes with set or add --update");
	for (i = 0; cmd == SET && i < NFIELDS && !given[i]; i++)
		;
	if (i == NFIELDS)
		sl_die(SL_EX_USAGE, "set: nothing to change");
	return cmd;
}

/* The ledger. */

/* The id of the rep name (an id when all digits): 1, 0 when none, -1. */
static int
find_rep(struct sl_db *db, const char *name, int64_t *id)
{
	int64_t n = sl_sched_id(name);
	jv row, v;

	row = n > 0 ? sl_db_query1(db, "SELECT id FROM reps WHERE id = $1",
	    JV_ARRAY(jv_number((double)n))) : sl_db_query1(db,
	    "SELECT id FROM reps WHERE name = $1", JV_ARRAY(jv_string(name)));
	if (!jv_is_valid(row)) {
		jv_free(row);
		return -1;
	}
	if (jv_get_kind(row) == JV_KIND_NULL)
		return 0;
	v = jv_object_get(row, jv_string("id"));
	*id = jv_get_kind(v) == JV_KIND_NUMBER ? (int64_t)jv_number_value(v) :
	    0;
	jv_free(v);
	return *id > 0;
}

/* The rep name (or id), or NULL after a message with its status in *st. */
static struct sl_rep *
load_rep(struct sl_db *db, const char *name, int *st)
{
	struct sl_rep *rep;
	const char *err;
	int temporary;

	if ((rep = sl_rep_load(db, name, &err, &temporary)) == NULL) {
		sl_error("%s", err);
		*st = err == sl_db_error(db) ? sl_db_exit_code(db) :
		    SL_EX_REJECT;
	}
	return rep;
}

/* The rep record of id in *rec; 0 or an exit status. */
static int
rep_record(struct sl_db *db, int64_t id, jv *rec)
{
	char buf[32];
	struct sl_rep *rep;
	int st = 0;

	snprintf(buf, sizeof buf, "%lld", (long long)id);
	if ((rep = load_rep(db, buf, &st)) == NULL)
		return st;
	*rec = sl_rep_json(rep);
	sl_rep_free(rep);
	return 0;
}

/* An audit row: detail (consumed) names what changed, never a value. */
static int
audit(struct sl_db *db, const char *action, jv subject, jv detail,
    int64_t now)
{
	char *s = sl_json_dump(detail, NULL);
	long n;

	jv_free(detail);
	n = sl_db_exec(db, "INSERT INTO audit (at, actor, action, subject, "
	    "detail) VALUES ($1, $2, $3, $4, $5)",
	    JV_ARRAY(jv_number((double)now), jv_string(sl_prog),
	    jv_string(action), subject, jv_string(s)));
	free(s);
	return n < 0 ? -1 : 0;
}

/* Commits (rolls back with -n), then prints rec (consumed). */
static int
finish(struct sl_db *db, jv rec)
{
	if ((nflag ? sl_db_rollback(db) : sl_db_commit(db)) < 0) {
		jv_free(rec);
		return fail(db);
	}
	if (nflag)
		rec = sl_set(rec, "dry_run", jv_true());
	sl_emit(rec);
	return sl_out_status();
}

/*
 * Refuses a name, Telegram user or business connection that another rep
 * than id has: 0, or an exit status after a message (rolled back).
 */
static int
conflicts(struct sl_db *db, int64_t id)
{
	static const char *const unique[][2] = { { "name", "rep" },
		{ "tg_user_id", "Telegram user" },
		{ "business_connection", "business connection" } };
	size_t i, f;
	char *sql;
	jv row, name;

	for (i = 0; i < sizeof unique / sizeof unique[0]; i++) {
		for (f = 0; f < NFIELDS; f++)
			if (given[f] &&
			    strcmp(fields[f].col, unique[i][0]) == 0)
				break;
		if (f == NFIELDS || jv_get_kind(vals[f]) != JV_KIND_STRING)
			continue;
		sql = sl_asprintf("SELECT name FROM reps WHERE %s = $1 AND "
		    "id <> $2", unique[i][0]);
		row = sl_db_query1(db, sql, JV_ARRAY(jv_copy(vals[f]),
		    jv_number((double)id)));
		free(sql);
		if (!jv_is_valid(row)) {
			jv_free(row);
			return fail(db);
		}
		if (jv_get_kind(row) == JV_KIND_NULL)
			continue;
		name = jv_object_get(row, jv_string("name"));
		if (i == 0)
			sl_error("rep '%s' exists already",
			    jv_string_value(vals[f]));
		else
			sl_error("%s '%s' belongs to rep '%s' (rename that "
			    "rep with rep-admin set %s --rename NAME)",
			    unique[i][1], jv_string_value(vals[f]),
			    jv_string_value(name), jv_string_value(name));
		jv_free(name);
		sl_db_rollback(db);
		return SL_EX_REJECT;
	}
	return 0;
}

/*
 * Inserts the rep name (id 0) or updates rep id with the options given,
 * their columns appended to cols.  Returns the rep's id, 0 when the name
 * was taken meanwhile, -1 on error.
 */
static int64_t
store(struct sl_db *db, int64_t id, const char *name, int64_t now, jv *cols)
{
	char *a = sl_strdup(""), *b = sl_strdup(""), *t, *sql;
	jv params = JV_ARRAY(id ? jv_number((double)id) : jv_string(name),
	    jv_number((double)now)), row, v;
	size_t i;
	int k = 3;

	for (i = 0; i < NFIELDS; i++) {
		if (!given[i])
			continue;
		t = id ? sl_asprintf("%s, %s = $%d", a, fields[i].col, k) :
		    sl_asprintf("%s, %s", a, fields[i].col);
		free(a);
		a = t;
		t = sl_asprintf("%s, $%d", b, k++);
		free(b);
		b = t;
		params = jv_array_append(params, jv_copy(vals[i]));
		*cols = jv_array_append(*cols, jv_string(fields[i].col));
	}
	sql = id ? sl_asprintf("UPDATE reps SET updated_at = $2%s WHERE id = "
	    "$1 RETURNING id", a) : sl_asprintf("INSERT INTO reps (name, "
	    "created_at, updated_at%s) VALUES ($1, $2, $2%s) ON CONFLICT DO "
	    "NOTHING RETURNING id", a, b);
	row = sl_db_query1(db, sql, params);
	free(sql);
	free(a);
	free(b);
	if (!jv_is_valid(row)) {
		jv_free(row);
		return -1;
	}
	if (jv_get_kind(row) == JV_KIND_NULL)
		return 0;
	v = jv_object_get(row, jv_string("id"));
	id = jv_get_kind(v) == JV_KIND_NUMBER ? (int64_t)jv_number_value(v) :
	    -1;
	jv_free(v);
	return id;
}

/* add, add --update, set. */
static int
cmd_save(struct sl_db *db, int cmd, const char *name)
{
	int64_t id = 0, now = sl_now();
	jv cols = jv_array(), rec = jv_null();
	int r, st = SL_EX_REJECT, any = 0;
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		any |= given[i];
	if (sl_db_begin_claim(db) < 0 || (r = find_rep(db, name, &id)) < 0)
		goto dberr;
	if (r && cmd == ADD && !updateflag) {
		sl_error("rep '%s' exists already (rep-admin set %s changes "
		    "it)", name, name);
		goto out;
	}
	if (!r && (cmd == SET || given[F_RENAME])) {
		sl_error("no rep '%s'", name);
		goto out;
	}
	if ((st = conflicts(db, id)) != 0)
		goto out;
	if ((!r || any) && (id = store(db, id, name, now, &cols)) <= 0) {
		if (id < 0)
			goto dberr;
		sl_error("rep '%s' exists already", name);
		st = SL_EX_REJECT;
		goto out;
	}
	if ((st = rep_record(db, id, &rec)) != 0)
		goto out;
	if ((!r || any) && audit(db, r ? "rep.update" : "rep.add",
	    jv_object_get(jv_copy(rec), jv_string("name")),
	    JV_OBJECT(jv_string("fields"), jv_copy(cols)), now) < 0)
		goto dberr;
	sl_info("rep '%s' %s", name, r ? "changed" : "added");
	st = finish(db, rec);
	rec = jv_null();
	goto out;
dberr:
	st = fail(db);
out:
	if (st)
		sl_db_rollback(db);
	jv_free(cols);
	jv_free(rec);
	return st;
}

/* enable, disable. */
static int
cmd_enable(struct sl_db *db, const char *name, int on)
{
	int64_t id = 0, now = sl_now();
	jv rec = jv_null();
	int r, st = SL_EX_REJECT;
	long n;

	if (sl_db_begin_claim(db) < 0 || (r = find_rep(db, name, &id)) < 0)
		goto dberr;
	if (r == 0) {
		sl_error("no rep '%s'", name);
		goto out;
	}
	if ((n = sl_db_exec(db, "UPDATE reps SET enabled = $2, updated_at = "
	    "$3 WHERE id = $1 AND enabled <> $2", JV_ARRAY(jv_number((double)
	    id), jv_number(on), jv_number((double)now)))) < 0)
		goto dberr;
	if ((st = rep_record(db, id, &rec)) != 0)
		goto out;
	if (n > 0 && audit(db, on ? "rep.enable" : "rep.disable",
	    jv_object_get(jv_copy(rec), jv_string("name")), jv_object(),
	    now) < 0)
		goto dberr;
	st = finish(db, rec);
	rec = jv_null();
	goto out;
dberr:
	st = fail(db);
out:
	if (st)
		sl_db_rollback(db);
	jv_free(rec);
	return st;
}

static int
cmd_list(struct sl_db *db)
{
	struct sl_rep *rep;
	const char *err;
	int i, len, bad = 0;
	jv rows, row;

	rows = sl_db_query(db, allflag ? "SELECT * FROM reps ORDER BY name" :
	    "SELECT * FROM reps WHERE enabled = 1 ORDER BY name", jv_null());
	if (!jv_is_valid(rows)) {
		jv_free(rows);
		return fail(db);
	}
	len = jv_array_length(jv_copy(rows));
	for (i = 0; i < len && sl_out_status() == 0; i++) {
		row = jv_array_get(jv_copy(rows), i);
		if ((rep = sl_rep_from_row(row, &err)) != NULL)
			sl_emit(sl_rep_json(rep));
		else
			bad = sl_error("%s", err);
		sl_rep_free(rep);
		jv_free(row);
	}
	jv_free(rows);
	return sl_out_status() ? sl_out_status() : bad ? SL_EX_REJECT : 0;
}

static int
cmd_show(struct sl_db *db, const char *name)
{
	struct sl_rep *rep;
	int st = 0;

	if ((rep = load_rep(db, name, &st)) == NULL)
		return st;
	sl_emit(sl_rep_json(rep));
	sl_rep_free(rep);
	return sl_out_status();
}

/* row[key] as an integer (borrows row), 0 when not a number. */
static int64_t
col_int(jv row, const char *key)
{
	int64_t x = 0;

	return sl_get_int(row, key, &x) > 0 ? x : 0;
}

/* The human.takeover or human.handback record of prospect row p. */
static jv
takeover_record(jv p, int on, const struct sl_rep *rep, int64_t at,
    int changed, jv ids)
{
	char buf[SL_TIME_BUFSZ];
	const char *s;
	jv rec = jv_object(), x;
	int i, n;

	rec = sl_set(rec, "type", jv_string(on ? "human.takeover" :
	    "human.handback"));
	rec = sl_set(rec, "channel", jv_object_get(jv_copy(p),
	    jv_string("channel")));
	rec = sl_set(rec, "rep", rep ? jv_string(rep->name) :
	    jv_object_get(jv_copy(p), jv_string("rep")));
	rec = sl_set(rec, "chat", jv_object_get(jv_copy(p), jv_string("chat")));
	rec = sl_set(rec, "prospect", sl_id_jv(prospectflag));
	if (sl_get_str(p, "business_connection", &s) > 0 && *s)
		rec = sl_set(rec, "business_connection", jv_string(s));
	rec = sl_set(rec, "at", jv_string(sl_time_fmt(at, buf)));
	rec = sl_set(rec, "changed", jv_bool(changed));
	if (on) {
		x = jv_array();
		n = jv_get_kind(ids) == JV_KIND_ARRAY ?
		    jv_array_length(jv_copy(ids)) : 0;
		for (i = 0; i < n; i++) {
			jv a = jv_array_get(jv_copy(ids), i);

			x = jv_array_append(x, sl_id_jv(col_int(a, "id")));
			jv_free(a);
		}
		rec = sl_set(rec, "cancelled", x);
	}
	return rec;
}

static int
cmd_takeover(struct sl_db *db, int on)
{
	struct sl_rep *rep = NULL;
	int64_t now = sl_now(), at = now;
	jv p = jv_null(), ids = jv_null();
	jv pid = jv_number((double)prospectflag);
	int st = SL_EX_REJECT;
	long n, c = 0;

	if (sl_db_begin_claim(db) < 0)
		goto dberr;
	p = sl_db_query1(db, "SELECT p.channel, p.chat, p.business_connection, "
	    "p.human_since, r.name AS rep FROM prospects p LEFT JOIN reps r ON "
	    "r.id = p.rep_id WHERE p.id = $1", JV_ARRAY(jv_copy(pid)));
	if (!jv_is_valid(p))
		goto dberr;
	if (jv_get_kind(p) == JV_KIND_NULL) {
		sl_error("no prospect '%lld'", (long long)prospectflag);
		goto out;
	}
	if (repflag && (rep = load_rep(db, repflag, &st)) == NULL)
		goto out;
	n = sl_db_exec(db, on ? "UPDATE prospects SET human_active = 1, "
	    "human_since = $2, updated_at = $2 WHERE id = $1 AND "
	    "human_active = 0" : "UPDATE prospects SET human_active = 0, "
	    "human_since = NULL, escalated_at = NULL, updated_at = $2 WHERE "
	    "id = $1 AND "
	    "human_active <> 0", JV_ARRAY(jv_copy(pid),
	    jv_number((double)now)));
	if (n < 0 || (on && (c = sl_sched_cancel(db, prospectflag, "followup",
	    "human_takeover", now, &ids)) < 0))
		goto dberr;
	if (on && n == 0 && col_int(p, "human_since") > 0)
		at = col_int(p, "human_since");
	if (n > 0 && audit(db, on ? "takeover" : "handback", jv_copy(pid),
	    rep ? JV_OBJECT(jv_string("rep"), jv_string(rep->name),
	    jv_string("cancelled"), jv_number(c)) : JV_OBJECT(
	    jv_string("cancelled"), jv_number(c)), now) < 0)
		goto dberr;
	sl_info("prospect '%lld': %s, %ld follow-ups cancelled",
	    (long long)prospectflag, n == 0 ? "no change" : on ?
	    "taken over" : "handed back", c);
	st = finish(db, takeover_record(p, on, rep, at, n > 0, ids));
	goto out;
dberr:
	st = fail(db);
out:
	if (st)
		sl_db_rollback(db);
	jv_free(p);
	jv_free(ids);
	jv_free(pid);
	sl_rep_free(rep);
	return st;
}

/* Google and Zoom. */

static int
cmd_calendar(struct sl_db *db, struct sl_google *g, const char *sub,
    const char *name)
{
	struct sl_svc_err err;
	struct sl_rep *rep;
	const char *code = NULL, *url = NULL;
	jv answer, rec;
	int st = 0, r = 0;

	memset(&err, 0, sizeof err);
	if ((rep = load_rep(db, name, &st)) == NULL)
		return st;
	if (nflag) {
		sl_info("would %s the calendar of '%s'", sub, rep->name);
	} else if (g == NULL) {		/* disconnect */
		if (sl_google_disconnect(db, rep) < 0)
			st = fail(db);
	} else if (!deviceflag) {
		r = sl_google_connect_loopback(g, db, rep, timeoutflag, stderr,
		    &err);
	} else if ((r = sl_google_device_start(g, &answer, &err)) == 0) {
		sl_get_str(answer, "user_code", &code);
		sl_get_str(answer, "verification_url", &url);
		fprintf(stderr, "%s: to connect the calendar of '%s', open %s "
		    "and enter the code %s\n", sl_prog, rep->name,
		    url ? url : "https://www.google.com/device",
		    code ? code : "(none given)");
		r = sl_google_device_poll(g, db, rep, answer, timeoutflag,
		    &err);
	}
	if (r < 0) {
		sl_error("calendar of '%s': %s", rep->name, err.message);
		st = sl_svc_exit_code(&err);
	}
	if (st == 0 && (st = rep_record(db, rep->id, &rec)) == 0) {
		if (nflag)
			rec = sl_set(rec, "dry_run", jv_true());
		sl_emit(rec);
		st = sl_out_status();
	}
	sl_rep_free(rep);
	return st;
}

static int
cmd_zoom(struct sl_db *db, struct sl_zoom *z, const char *name)
{
	struct sl_svc_err err;
	struct sl_rep *rep = NULL;
	const char *user;
	jv account, rec, type;
	int st = 0;

	memset(&err, 0, sizeof err);
	if (name && (rep = load_rep(db, name, &st)) == NULL)
		return st;
	user = rep && rep->zoom_user ? rep->zoom_user : "me";
	if (sl_zoom_verify(z, db, user, &account, &err) < 0) {
		sl_error("zoom: cannot verify user '%s': %s", user,
		    err.message);
		sl_rep_free(rep);
		return sl_svc_exit_code(&err);
	}
	rec = sl_set(jv_object(), "type", jv_string("zoom.account"));
	rec = sl_set(rec, "user", jv_string(user));
	if (rep)
		rec = sl_set(rec, "rep", jv_string(rep->name));
	if (jv_get_kind(account) == JV_KIND_OBJECT) {
		type = jv_object_get(jv_copy(account), jv_string("type"));
		account = jv_object_delete(account, jv_string("type"));
		if (jv_is_valid(type) && jv_get_kind(type) != JV_KIND_NULL)
			account = sl_set(account, "user_type", type);
		else
			jv_free(type);
		rec = jv_object_merge(rec, account);
	} else {
		jv_free(account);
	}
	sl_emit(rec);
	sl_rep_free(rep);
	return sl_out_status();
}

int
main(int argc, char **argv)
{
	struct sl_db *db;
	const char *tz;
	size_t i;
	int cmd, st = 0;
	struct sl_google *google = NULL;
	struct sl_zoom *zoom = NULL;

	sl_init("rep-admin");
	options(argc, argv);
	argv += optind;
	argc -= optind;
	cmd = command(argc, argv);
	if (cmd == CALENDAR && strcmp(argv[1], "connect") == 0 &&
	    (google = sl_google_open()) == NULL)
		sl_die(SL_EX_CONFIG, "GOOGLE_CLIENT_ID is not set: the "
		    "calendar is off");
	if (cmd == ZOOM && (zoom = sl_zoom_open()) == NULL)
		sl_die(SL_EX_CONFIG, "ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and "
		    "ZOOM_CLIENT_SECRET are not set: Zoom is off");
	tz = sl_env("SALESLINE_TZ", "Asia/Makassar");
	if (sl_zone_load(tz) == NULL)
		sl_die(SL_EX_CONFIG, "SALESLINE_TZ: unknown time zone '%s'",
		    tz);
	sl_now();	/* a bad SALESLINE_NOW exits 78 before any work */
	db = sl_db_open_or_die(sl_db_url(dbflag), NULL, 1);
	switch (cmd) {
	case ADD:
	case SET: st = cmd_save(db, cmd, argv[1]); break;
	case LIST: st = cmd_list(db); break;
	case SHOW: st = cmd_show(db, argv[1]); break;
	case DISABLE: st = cmd_enable(db, argv[1], 0); break;
	case ENABLE: st = cmd_enable(db, argv[1], 1); break;
	case TAKEOVER: st = cmd_takeover(db, strcmp(argv[1], "on") == 0); break;
	case CALENDAR: st = cmd_calendar(db, google, argv[1], argv[2]); break;
	case ZOOM: st = cmd_zoom(db, zoom, argc > 2 ? argv[2] : NULL); break;
	}
	if (google)
		sl_google_close(google);
	if (zoom)
		sl_zoom_close(zoom);
	sl_db_close(db);
	for (i = 0; i < NFIELDS; i++)
		if (given[i])
			jv_free(vals[i]);
	sl_zone_free_all();
	if (sl_out_close() != 0 && (st == 0 || st == SL_EX_REJECT))
		st = SL_EX_IOERR;
	return st;
}
