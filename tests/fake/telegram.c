/*
 * telegram.c: the Telegram Bot API in fake-api.
 *
 * Calls are /bot<TOKEN>/<method>, GET or POST, with parameters in the
 * query, a form or a JSON body (fake_params merges them); method names are
 * case-insensitive.  A token is accepted when it is one given with -t, or,
 * when no -t was given, when it is well formed (digits:[A-Za-z0-9_-]{20,}).
 * Otherwise 401 Unauthorized, as Telegram does.  Unknown methods get 404.
 * Answers use Telegram's envelope: {"ok":true,"result":...} or
 * {"ok":false,"error_code":N,"description":"..."}.
 *
 * The bot is the fixture of the reference (telegram.md section 9):
 * 7000000001 acme_sales_bot.  State that later methods need (updates
 * queued by a test, messages sent) belongs in struct tg_bot, one per
 * token, created on first use; tg_reset and tg_cleanup forget it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake.h"
#include "jsonl.h"
#include "sl.h"

#define TG_BOT_ID 7000000001.0

struct tg_bot {
	char *token;
	struct tg_bot *next;
};

/* One call: the request, its bot and its parameters. */
struct tg_call {
	const struct fake_req *req;
	struct tg_bot *bot;
	const char *method;
	jv params;
};

struct tg_method {
	const char *name;
	void (*fn)(struct tg_call *call, struct fake_resp *resp);
};

static char **tokens;
static size_t ntokens;
static struct tg_bot *bots;

static void
tg_ok(struct fake_resp *resp, jv result)
{
	fake_reply_json(resp, 200, sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "result", result));
}

/* An error; params (consumed) is Telegram's "parameters", or null. */
static void
tg_error(struct fake_resp *resp, int code, const char *description,
    jv params)
{
	jv e = sl_set(sl_set(sl_set(jv_object(), "ok", jv_false()),
	    "error_code", jv_number(code)), "description",
	    jv_string(description));

	if (jv_get_kind(params) == JV_KIND_OBJECT)
		e = sl_set(e, "parameters", params);
	else
		jv_free(params);
	fake_reply_json(resp, code, e);
}

static void
tg_getme(struct tg_call *call, struct fake_resp *resp)
{
	jv me = jv_object();

	(void)call;
	me = sl_set(me, "id", jv_number(TG_BOT_ID));
	me = sl_set(me, "is_bot", jv_true());
	me = sl_set(me, "first_name", jv_string("Acme Sales"));
	me = sl_set(me, "username", jv_string("acme_sales_bot"));
	me = sl_set(me, "can_join_groups", jv_true());
	me = sl_set(me, "can_read_all_group_messages", jv_false());
	me = sl_set(me, "supports_inline_queries", jv_false());
	me = sl_set(me, "can_connect_to_business", jv_true());
	me = sl_set(me, "has_main_web_app", jv_false());
	tg_ok(resp, me);
}

static const struct tg_method methods[] = {
	{ "getMe", tg_getme },
	{ NULL, NULL },
};

static int
well_formed(const char *t, size_t n)
{
	size_t i = 0, secret;

	while (i < n && t[i] >= '0' && t[i] <= '9')
		i++;
	if (i == 0 || i == n || t[i] != ':')
		return 0;
	for (secret = ++i; i < n; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= '0' && t[i] <= '9') || t[i] == '_' || t[i] == '-'))
			return 0;
	return n - secret >= 20;
}

static int
accepted(const char *t, size_t n)
{
	size_t i;

	if (ntokens == 0)
		return well_formed(t, n);
	for (i = 0; i < ntokens; i++)
		if (strlen(tokens[i]) == n && memcmp(tokens[i], t, n) == 0)
			return 1;
	return 0;
}

static struct tg_bot *
bot_for(const char *t, size_t n)
{
	struct tg_bot *b;

	for (b = bots; b; b = b->next)
		if (strlen(b->token) == n && memcmp(b->token, t, n) == 0)
			return b;
	b = sl_calloc(1, sizeof *b);
	b->token = sl_strndup(t, n);
	b->next = bots;
	bots = b;
	return b;
}

static int
tg_handle(const struct fake_req *req, struct fake_resp *resp)
{
	const struct tg_method *m;
	struct tg_call call;
	const char *token, *slash;

	if (strncmp(req->path, "/bot", 4) != 0)
		return 0;
	token = req->path + 4;
	if (!(slash = strchr(token, '/'))) {
		tg_error(resp, 404, "Not Found", jv_null());
		return 1;
	}
	if (!accepted(token, (size_t)(slash - token))) {
		tg_error(resp, 401, "Unauthorized", jv_null());
		return 1;
	}
	for (m = methods; m->name; m++)
		if (strcasecmp(m->name, slash + 1) == 0)
			break;
	if (!m->name) {
		tg_error(resp, 404, "Not Found", jv_null());
		return 1;
	}
	call.req = req;
	call.bot = bot_for(token, (size_t)(slash - token));
	call.method = m->name;
	call.params = fake_params(req);
	m->fn(&call, resp);
	jv_free(call.params);
	return 1;
}

static int
tg_option(int c, const char *arg)
{
	(void)c;
	if (!*arg) {
		sl_error("-t: empty token");
		return -1;
	}
	tokens = sl_realloc(tokens, (ntokens + 1) * sizeof *tokens);
	tokens[ntokens++] = sl_strdup(arg);
	return 0;
}

static void
tg_reset(void)
{
	struct tg_bot *b, *next;

	for (b = bots; b; b = next) {
		next = b->next;
		free(b->token);
		free(b);
	}
	bots = NULL;
}

static void
tg_cleanup(void)
{
	size_t i;

	tg_reset();
	for (i = 0; i < ntokens; i++)
		free(tokens[i]);
	free(tokens);
	tokens = NULL;
	ntokens = 0;
}

const struct fake_module fake_telegram = {
	"telegram",
	"t:",
	"[-t telegram-token]...",
	tg_option,
	tg_handle,
	tg_reset,
	tg_cleanup,
};
