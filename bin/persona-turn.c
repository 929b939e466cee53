/*
 * persona-turn: the next message of a prospect played by a model, for
 * stress-run --persona-model.
 *
 * Reads one JSON object, {"persona":{...},"goal"?:"...","messages":[{"dir":
 * "in"|"out","text":"..."}...]}, where "in" is what the prospect wrote and
 * "out" the agent's messages, and writes one line {"type":"persona.turn",
 * "text":"...","done":bool}: the prospect's next message, or done when the
 * model answered DONE (the goal is reached or the conversation is over).
 *
 * The model is agent-reply's (lib/llm.h: the same LLM_* environment); the
 * system prompt holds the persona, the one user message the chat so far.
 * Nothing is written to the ledger.  --check only says whether a model is
 * configured.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "jsonl.h"
#include "llm.h"
#include "sl.h"

static const char usage_text[] =
    "usage: persona-turn [-v] [--check]\n"
    "       persona-turn -h\n";

/* The chat given to the model: its last messages, this many bytes. */
#define CHAT_MAX 32768
#define MSG_MAX 4000

static int cflag;

static SL_NORETURN void
usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	exit(code);
}

static void
options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cflag = 1; break;
		case 'h': usage(SL_EX_OK);
		case 'v': sl_verbose = 1; break;
		default:
			sl_option_error(c, argv);
			usage(SL_EX_USAGE);
		}
	}
	if (optind < argc) {
		sl_error("unexpected argument '%s'", argv[optind]);
		usage(SL_EX_USAGE);
	}
}

/* The model, or exit 78 when none is configured. */
static struct sl_llm *
model(void)
{
	struct sl_llm *l = sl_llm_open();

	if (l == NULL)
		sl_die(SL_EX_CONFIG, "no model: set LLM_PROVIDER to anthropic "
		    "or openai with its key (the rules engine cannot play a "
		    "prospect)");
	return l;
}

/* All of stdin; exits 74 on a read error, 65 when it is too long. */
static char *
slurp(size_t *len)
{
	struct sl_buf b = { NULL, 0, 0 };
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		sl_buf_add(&b, chunk, n);
		if (b.len > SL_LINE_MAX)
			sl_die(SL_EX_DATAERR, "stdin: the input is longer than "
			    "%d bytes", SL_LINE_MAX);
	}
	if (ferror(stdin))
		sl_die(SL_EX_IOERR, "stdin: read error");
	*len = b.len;
	return b.s ? b.s : sl_strdup("");
}

static SL_NORETURN void
bad(const char *field, const char *what)
{
	sl_die(SL_EX_DATAERR, "stdin: '%s': expected %s", field, what);
}

/* A string field that may be absent; dies when it has another kind. */
static const char *
opt_str(jv obj, const char *key, const char *field)
{
	const char *s = NULL;

	if (sl_get_str(obj, key, &s) < 0)
		bad(field, "a string");
	return s;
}

/* Checks the input, field by field; dies 65 naming the first bad one. */
static void
check(jv in)
{
	static const char *const knows[] = { "budget", "authority", "need",
	    "timeline", "email", "preferred_time" };
	const char *s;
	char field[64];
	jv p, v, m;
	int i, n;

	if (jv_get_kind(in) != JV_KIND_OBJECT)
		sl_die(SL_EX_DATAERR, "stdin: expected a JSON object");
	if (sl_get_obj(in, "persona", &p) != 1)
		bad("persona", "an object");
	if (sl_get_str(p, "name", &s) != 1 || !*s)
		bad("persona.name", "a non-empty string");
	if (sl_get_str(p, "lang", &s) != 1 || (strcmp(s, "ru") != 0 &&
	    strcmp(s, "en") != 0))
		bad("persona.lang", "\"ru\" or \"en\"");
	opt_str(p, "goal", "persona.goal");
	if ((i = sl_get_arr(p, "traits", &v)) < 0)
		bad("persona.traits", "an array of strings");
	if (i == 1) {
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			m = jv_array_get(jv_copy(v), i);
			if (jv_get_kind(m) != JV_KIND_STRING) {
				snprintf(field, sizeof field, "persona.traits[%d]", i);
				bad(field, "a string");
			}
			jv_free(m);
		}
		jv_free(v);
	}
	if ((i = sl_get_obj(p, "knows", &v)) < 0)
		bad("persona.knows", "an object");
	for (n = 0; i == 1 && n < (int)(sizeof knows / sizeof *knows); n++) {
		snprintf(field, sizeof field, "persona.knows.%s", knows[n]);
		opt_str(v, knows[n], field);
	}
	if (i == 1)
		jv_free(v);
	jv_free(p);
	opt_str(in, "goal", "goal");
	if (sl_get_arr(in, "messages", &v) != 1)
		bad("messages", "an array");
	n = jv_array_length(jv_copy(v));
	for (i = 0; i < n; i++) {
		m = jv_array_get(jv_copy(v), i);
		snprintf(field, sizeof field, "messages[%d]", i);
		if (jv_get_kind(m) != JV_KIND_OBJECT)
			bad(field, "an object");
		snprintf(field, sizeof field, "messages[%d].dir", i);
		if (sl_get_str(m, "dir", &s) != 1 || (strcmp(s, "in") != 0 &&
		    strcmp(s, "out") != 0))
			bad(field, "\"in\" or \"out\"");
		snprintf(field, sizeof field, "messages[%d].text", i);
		if (sl_get_str(m, "text", &s) != 1)
			bad(field, "a string");
		jv_free(m);
	}
	jv_free(v);
}

static void
add(struct sl_buf *b, const char *s)
{
	sl_buf_add(b, s, strlen(s));
}

/* "label: value" for what the prospect knows, when it is set. */
static void
fact(struct sl_buf *b, jv knows, const char *key, const char *label)
{
	const char *s;

	if (jv_get_kind(knows) == JV_KIND_OBJECT &&
	    sl_get_str(knows, key, &s) == 1 && *s) {
		add(b, "\n- ");
		add(b, label);
		add(b, ": ");
		add(b, s);
	}
}

/* The system prompt: who the model plays and how it writes. */
static char *
system_prompt(jv in)
{
	struct sl_buf b = { NULL, 0, 0 };
	const char *name = "", *lang = "ru", *goal = NULL, *s;
	jv p, traits = jv_null(), knows = jv_null(), t;
	int i, n;

	sl_get_obj(in, "persona", &p);
	sl_get_str(p, "name", &name);
	sl_get_str(p, "lang", &lang);
	if (sl_get_str(in, "goal", &goal) != 1)
		sl_get_str(p, "goal", &goal);
	add(&b, "You play a prospect who writes in Telegram to the sales "
	    "assistant of a company. Stay in character; never say that you "
	    "are a model or that this is a test.\nYou are ");
	add(&b, name);
	add(&b, strcmp(lang, "en") == 0 ? ". You write in English." :
	    ". You write in Russian.");
	if (sl_get_arr(p, "traits", &traits) == 1 &&
	    (n = jv_array_length(jv_copy(traits))) > 0) {
		add(&b, "\nYour manner:");
		for (i = 0; i < n; i++) {
			t = jv_array_get(jv_copy(traits), i);
			add(&b, i ? ", " : " ");
			add(&b, jv_string_value(t));
			jv_free(t);
		}
		add(&b, ".");
	}
	if (goal && *goal) {
		add(&b, "\nYour goal: ");
		add(&b, goal);
		add(&b, ".");
	}
	sl_get_obj(p, "knows", &knows);
	add(&b, "\nWhat you know, to tell when you are asked or when it "
	    "fits (not all at once):");
	fact(&b, knows, "need", "what you need");
	fact(&b, knows, "budget", "your budget");
	fact(&b, knows, "authority", "who decides");
	fact(&b, knows, "timeline", "when you want to start");
	fact(&b, knows, "email", "your e-mail");
	fact(&b, knows, "preferred_time", "the meeting time you prefer");
	if (jv_get_kind(knows) != JV_KIND_OBJECT ||
	    jv_object_length(jv_copy(knows)) == 0)
		add(&b, " nothing in particular; answer as such a person "
		    "would.");
	s = "\nWrite only your next message: one short message, as people "
	    "type in Telegram, usually one or two sentences, with no quotes "
	    "around it, no name before it and no stage directions. When your "
	    "goal is reached (a meeting is booked and you have the link, say) "
	    "or the conversation is over, answer with the single word DONE.";
	add(&b, s);
	jv_free(traits);
	jv_free(knows);
	jv_free(p);
	return b.s;
}

/* The chat so far for the model, the last CHAT_MAX bytes of it. */
static char *
chat(jv in)
{
	struct sl_buf b = { NULL, 0, 0 };
	const char *name = "", *dir, *text;
	jv p, msgs, m;
	char *line;
	int i, n, from;
	size_t size = 0;

	sl_get_obj(in, "persona", &p);
	sl_get_str(p, "name", &name);
	sl_get_arr(in, "messages", &msgs);
	n = jv_array_length(jv_copy(msgs));
	for (from = n; from > 0; from--) {
		m = jv_array_get(jv_copy(msgs), from - 1);
		sl_get_str(m, "text", &text);
		size += strlen(text) > MSG_MAX ? MSG_MAX : strlen(text);
		jv_free(m);
		if (size > CHAT_MAX)
			break;
	}
	if (n == 0) {
		line = sl_asprintf("The chat has not started. Write your first "
		    "message to the assistant, %s.", name);
		add(&b, line);
		free(line);
	} else {
		add(&b, from > 0 ? "The chat so far (its beginning left out):\n"
		    : "The chat so far:\n");
	}
	for (i = from; i < n; i++) {
		m = jv_array_get(jv_copy(msgs), i);
		sl_get_str(m, "dir", &dir);
		sl_get_str(m, "text", &text);
		line = sl_asprintf("\n%s: %.*s\n", strcmp(dir, "in") == 0 ?
		    name : "Assistant", MSG_MAX, text);
		add(&b, line);
		free(line);
		jv_free(m);
	}
	if (n > 0) {
		line = sl_asprintf("\nWrite your next message as %s, or DONE.",
		    name);
		add(&b, line);
		free(line);
	}
	jv_free(msgs);
	jv_free(p);
	return b.s;
}

/* Is c one of the characters of set (never the NUL)? */
static int
isin(char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/* Is s (len bytes) the word DONE, maybe with a full stop? */
static int
is_done(const char *s, size_t len)
{
	while (len > 0 && isin(s[len - 1], ".!* \t\r\n"))
		len--;
	while (len > 0 && isin(*s, "* \t")) {
		s++;
		len--;
	}
	return len == 4 && strncasecmp(s, "DONE", 4) == 0;
}

/*
 * The model's text as the prospect's message: trimmed, without quotes
 * around it or the persona's name before it; a last line DONE ends the
 * conversation (*done), after the text before it if there is any.
 */
static char *
tidy(const char *text, const char *name, int *done)
{
	const char *a = text, *z = text + strlen(text), *nl;
	size_t k = strlen(name);

	*done = 0;
	while (a < z && isin(*a, " \t\r\n"))
		a++;
	while (z > a && isin(z[-1], " \t\r\n"))
		z--;
	for (nl = z; nl > a && nl[-1] != '\n'; nl--)
		;
	if (is_done(nl, (size_t)(z - nl)) || a == z) {
		*done = 1;
		z = nl;
		while (z > a && isin(z[-1], " \t\r\n"))
			z--;
	}
	if (k > 0 && (size_t)(z - a) > k + 1 && strncmp(a, name, k) == 0 &&
	    a[k] == ':') {
		a += k + 1;
		while (a < z && *a == ' ')
			a++;
	}
	if (z - a >= 2 && *a == '"' && z[-1] == '"') {
		a++;
		z--;
	} else if (z - a >= 4 && strncmp(a, "\xc2\xab", 2) == 0 &&
	    strncmp(z - 2, "\xc2\xbb", 2) == 0) {
		a += 2;
		z -= 2;
	}
	return sl_strndup(a, (size_t)(z - a));
}

static int
turn(struct sl_llm *l, jv in)
{
	struct sl_svc_err err;
	const char *text = "", *name = "";
	char *sys, *user, *said;
	jv msgs, tools, ans, p;
	int st, done;

	sys = system_prompt(in);
	user = chat(in);
	msgs = JV_ARRAY(JV_OBJECT(jv_string("role"), jv_string("user"),
	    jv_string("text"), jv_string(user)));
	tools = jv_array();
	memset(&err, 0, sizeof err);
	st = sl_llm_complete(l, sys, msgs, tools, 400, &ans, &err);
	jv_free(msgs);
	jv_free(tools);
	free(sys);
	free(user);
	if (st < 0) {
		sl_error("the model failed (%s): %s", err.reason, err.message);
		return sl_svc_exit_code(&err);
	}
	sl_get_str(ans, "text", &text);
	sl_get_obj(in, "persona", &p);
	sl_get_str(p, "name", &name);
	said = tidy(text ? text : "", name, &done);
	jv_free(p);
	sl_info("%s %s: %ld+%ld tokens, %ld ms", sl_llm_provider(l),
	    sl_llm_model(l), (long)jv_number_value(jv_object_get(jv_copy(ans),
	    jv_string("input_tokens"))), (long)jv_number_value(jv_object_get(
	    jv_copy(ans), jv_string("output_tokens"))),
	    (long)jv_number_value(jv_object_get(jv_copy(ans),
	    jv_string("latency_ms"))));
	jv_free(ans);
	sl_emit(JV_OBJECT(jv_string("type"), jv_string("persona.turn"),
	    jv_string("text"), jv_string(said), jv_string("done"),
	    jv_bool(done)));
	free(said);
	return SL_EX_OK;
}

int
main(int argc, char **argv)
{
	struct sl_llm *l;
	char *buf;
	size_t len;
	jv in;
	int st;

	sl_init("persona-turn");
	options(argc, argv);
	l = model();
	if (cflag) {
		sl_emit(JV_OBJECT(jv_string("type"), jv_string("persona.model"),
		    jv_string("provider"), jv_string(sl_llm_provider(l)),
		    jv_string("model"), jv_string(sl_llm_model(l))));
		st = SL_EX_OK;
	} else {
		buf = slurp(&len);
		in = sl_parse(buf, len);
		free(buf);
		if (!jv_is_valid(in)) {
			jv m = jv_invalid_get_msg(in);

			sl_die(SL_EX_DATAERR, "stdin: not a JSON object: %s",
			    jv_get_kind(m) == JV_KIND_STRING ?
			    jv_string_value(m) : "no JSON value");
		}
		check(in);
		st = turn(l, in);
		jv_free(in);
	}
	if (sl_out_close() != 0 && st == SL_EX_OK)
		st = SL_EX_IOERR;
	sl_llm_close(l);
	sl_http_cleanup();
	return st;
}
