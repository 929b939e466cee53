/*
 * tg.c: calls to the Telegram Bot API.  See tg.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl.h"
#include "http.h"
#include "jsonl.h"
#include "tg.h"

#define DEFAULT_BASE "https://api.telegram.org"

struct sl_tg *
sl_tg_open(void)
{
	struct sl_tg *tg;
	const char *base = sl_env("TELEGRAM_API_URL", DEFAULT_BASE);
	char *token = sl_secret_require("TELEGRAM_BOT_TOKEN");
	const char *colon = strchr(token, ':');
	size_t n, i;

	n = colon ? (size_t)(colon - token) : 0;
	for (i = 0; i < n; i++)
		if (token[i] < '0' || token[i] > '9')
			n = 0;
	if (n == 0 || n >= sizeof tg->bot || !colon[1] ||
	    strspn(colon + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") != strlen(colon + 1)) {
		free(token);
		sl_die(SL_EX_CONFIG, "TELEGRAM_BOT_TOKEN is not a bot token "
		    "(digits:secret, as @BotFather gives it)");
	}
	if (strncmp(base, "http://", 7) != 0 &&
	    strncmp(base, "https://", 8) != 0) {
		free(token);
		sl_die(SL_EX_CONFIG, "TELEGRAM_API_URL '%s' is not an http(s) "
		    "URL", base);
	}
	tg = sl_calloc(1, sizeof *tg);
	tg->token = token;
	tg->base = sl_strdup(base);
	n = strlen(tg->base);
	while (n > 0 && tg->base[n - 1] == '/')
		tg->base[--n] = '\0';
	memcpy(tg->bot, token, (size_t)(colon - token));
	tg->bot[colon - token] = '\0';
	return tg;
}

void
sl_tg_close(struct sl_tg *tg)
{
	if (!tg)
		return;
	free(tg->token);
	free(tg->base);
	free(tg);
}

/* Fills err from an {"ok":false,...} body, or from the transport. */
static void
set_error(struct sl_tg_error *err, const struct sl_http_resp *resp, jv body)
{
	const char *desc = NULL;
	int64_t code = 0;
	jv params;

	err->class = resp->class == SL_HTTP_OK ? SL_HTTP_PERMANENT :
	    resp->class;
	err->code = resp->status;
	err->retry_after_ms = resp->retry_after_ms;
	err->migrate_to[0] = '\0';
	snprintf(err->description, sizeof err->description, "%s",
	    resp->error[0] ? resp->error : "unexpected answer");
	if (jv_get_kind(body) != JV_KIND_OBJECT)
		return;
	if (sl_get_int(body, "error_code", &code) == 1)
		err->code = (long)code;
	if (sl_get_str(body, "description", &desc) == 1)
		snprintf(err->description, sizeof err->description, "%s", desc);
	if (sl_get_obj(body, "parameters", &params) == 1) {
		jv to;

		if (sl_get_int(params, "retry_after", &code) == 1 && code >= 0)
			err->retry_after_ms = (long)code * 1000;
		if (sl_get_id(params, "migrate_to_chat_id", &to) == 1) {
			snprintf(err->migrate_to, sizeof err->migrate_to, "%s",
			    jv_string_value(to));
			jv_free(to);
		}
		jv_free(params);
	}
}

jv
sl_tg_call(struct sl_tg *tg, const char *method, jv params,
    const struct sl_tg_opts *opts, struct sl_tg_error *err)
{
	return sl_tg_call_body(tg, method, params, opts, err, NULL, NULL);
}

jv
sl_tg_call_body(struct sl_tg *tg, const char *method, jv params,
    const struct sl_tg_opts *opts, struct sl_tg_error *err, char **text,
    size_t *text_len)
{
	static const char *const headers[] = {
		"Content-Type: application/json", NULL
	};
	struct sl_http_req req = { 0 };
	struct sl_http_resp resp;
	char *url, *body;
	size_t len;
	jv parsed, result = jv_invalid();
	int ok = 0;

	memset(err, 0, sizeof *err);
	err->retry_after_ms = -1;
	if (jv_get_kind(params) == JV_KIND_NULL) {
		jv_free(params);
		params = jv_object();
	}
	url = sl_asprintf("%s/bot%s/%s", tg->base, tg->token, method);
	body = sl_json_dump(params, &len);
	jv_free(params);
	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.body = body;
	req.body_len = len;
	if (opts) {
		req.timeout_ms = opts->timeout_ms;
		req.max_tries = opts->max_tries;
		req.idempotent = opts->idempotent;
		req.max_wait_ms = opts->max_wait_ms;
	}
	sl_http_do(&req, &resp);
	parsed = sl_http_json(&resp);
	if (resp.class == SL_HTTP_OK && jv_get_kind(parsed) == JV_KIND_OBJECT) {
		int okf = 0;

		if (sl_get_bool(parsed, "ok", &okf) == 1 && okf) {
			result = jv_object_get(jv_copy(parsed),
			    jv_string("result"));
			ok = jv_is_valid(result);
		}
	}
	if (!ok) {
		if (resp.class == SL_HTTP_OK && !jv_is_valid(parsed))
			snprintf(resp.error, sizeof resp.error,
			    "%s: the answer is not JSON", method);
		set_error(err, &resp, parsed);
		/*
		 * A 2xx that is not Telegram's answer (a proxy's page, a cut
		 * body): the call may have had its effect.
		 */
		if (resp.class == SL_HTTP_OK)
			err->class = opts && opts->idempotent ?
			    SL_HTTP_TEMPORARY : SL_HTTP_UNCERTAIN;
		jv_free(result);
		result = jv_invalid_with_msg(jv_string(err->description));
	}
	jv_free(parsed);
	if (text) {
		*text = ok ? resp.body : NULL;
		*text_len = ok ? resp.body_len : 0;
		if (ok)
			resp.body = NULL;
	}
	sl_http_resp_free(&resp);
	free(body);
	free(url);
	return result;
}

int
sl_tg_exit_code(const struct sl_tg_error *err)
{
	if (err->class == SL_HTTP_TEMPORARY || err->class == SL_HTTP_UNCERTAIN)
		return SL_EX_TEMPFAIL;
	if (err->code == 401)
		return SL_EX_NOPERM;
	return SL_EX_UNAVAILABLE;
}
