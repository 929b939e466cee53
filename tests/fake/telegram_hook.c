/*
 * telegram_hook.c: webhooks in fake-api's Telegram: setWebhook,
 * deleteWebhook, getWebhookInfo, and the thread that delivers.
 *
 * setWebhook starts a thread that POSTs the queued updates one
 * at a time, in order, to the url (http:// is accepted too, for loopback)
 * with X-Telegram-Bot-Api-Secret-Token when a secret was set.  A 2xx
 * removes the update; anything else is retried after 100 ms, doubling to
 * at most 2 s (Telegram: 1 s doubling to a minute or two), and shows in
 * getWebhookInfo's last_error_date / last_error_message.  Delivery is
 * strictly sequential (Telegram parallelises across chats), and a method
 * in the answer's body is ignored.
 *
 * While a webhook is set, getUpdates answers 409 (telegram.c).  The
 * thread copies what it sends (url, secret, the update's text) under the
 * lock and POSTs without it, with its own curl handle; a reset or the
 * end of the webhook stops it.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "fake.h"
#include "jsonl.h"
#include "sl.h"
#include "telegram.h"

#define TG_HOOK_BACKOFF_MS 100
#define TG_HOOK_BACKOFF_MAX_MS 2000
#define TG_HOOK_TIMEOUT_MS 10000L

static int curl_ready;

/* Discards a webhook's answer. */
static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int
hook_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
    curl_off_t d)
{
	struct tg_worker *w = arg;

	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return atomic_load(&w->stop) || fake_stopping();
}

static const char *
reason_phrase(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return NULL;
}

/*
 * POSTs one update, without the lock.  Returns the HTTP status, or 0 with
 * the reason in err (in Telegram's words where they are known).
 */
static long
hook_post(struct tg_worker *w, CURL *c, const char *url, const char *secret,
    const char *body, char *err, size_t errsize)
{
	struct curl_slist *h = NULL;
	CURLcode rc;
	long status = 0;
	char *s;

	h = curl_slist_append(h, "Content-Type: application/json");
	if (secret) {
		s = sl_asprintf("X-Telegram-Bot-Api-Secret-Token: %s", secret);
		h = curl_slist_append(h, s);
		free(s);
	}
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, TG_HOOK_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, hook_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, w);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	} else if (rc == CURLE_COULDNT_CONNECT) {
		snprintf(err, errsize, "Connection refused");
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, errsize, "Read timeout expired");
	} else {
		snprintf(err, errsize, "%s", curl_easy_strerror(rc));
	}
	curl_slist_free_all(h);
	return status;
}

static void *
hook_main(void *arg)
{
	struct tg_worker *w = arg;
	struct tg_bot *b;
	long long id, next_try = 0, now;
	long backoff = 0, status;
	char *url, *secret, *body, err[256];
	const char *why;
	CURL *c = curl_easy_init();
	size_t i;

	fake_lock();
	while (c && !atomic_load(&w->stop) && (b = w->bot) && b->hook_url &&
	    b->hook == w) {
		now = fake_now_ms();
		if (!tg_queued(b) || now < next_try) {
			if (fake_wait(tg_queued(b) ? (long)(next_try - now) :
			    1000) < 0)
				break;
			continue;
		}
		id = b->q[b->qhead].id;
		body = sl_strdup(b->q[b->qhead].json);
		url = sl_strdup(b->hook_url);
		secret = b->hook_secret ? sl_strdup(b->hook_secret) : NULL;
		fake_unlock();
		err[0] = '\0';
		status = hook_post(w, c, url, secret, body, err, sizeof err);
		free(body);
		free(url);
		free(secret);
		fake_lock();
		if (atomic_load(&w->stop) || !(b = w->bot))
			break;
		if (status >= 200 && status < 300) {
			for (i = b->qhead; i < b->qlen; i++)
				if (b->q[i].id == id)
					break;
			if (i < b->qlen) {
				free(b->q[i].kind);
				free(b->q[i].json);
				memmove(b->q + i, b->q + i + 1,
				    (b->qlen - i - 1) * sizeof *b->q);
				b->qlen--;
				if (id >= b->confirmed_below)
					b->confirmed_below = id + 1;
			}
			backoff = 0;
			next_try = 0;
			continue;
		}
		free(b->hook_err_msg);
		if (status) {
			why = reason_phrase(status);
			b->hook_err_msg = why ? sl_asprintf("Wrong response "
			    "from the webhook: %ld %s", status, why) :
			    sl_asprintf("Wrong response from the webhook: %ld",
			    status);
		} else {
			b->hook_err_msg = sl_strdup(err);
		}
		b->hook_err_date = tg_unix_now();
		backoff = backoff ? backoff * 2 : TG_HOOK_BACKOFF_MS;
		if (backoff > TG_HOOK_BACKOFF_MAX_MS)
			backoff = TG_HOOK_BACKOFF_MAX_MS;
		next_try = fake_now_ms() + backoff;
	}
	if (w->bot && w->bot->hook == w)
		w->bot->hook = NULL;
	w->exited = 1;
	fake_unlock();
	if (c)
		curl_easy_cleanup(c);
	return NULL;
}

/*
 * setWebhook, deleteWebhook, getWebhookInfo.
 */

static int
secret_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 256)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") == n;
}

static void
hook_clear(struct tg_bot *b)
{
	free(b->hook_url);
	free(b->hook_secret);
	b->hook_url = b->hook_secret = NULL;
	b->hook_max = 0;
	fake_notify();
}

void
tg_set_webhook(struct tg_call *call, struct fake_resp *resp)
{
	struct tg_bot *b = call->bot;
	const char *url = "", *secret = NULL;
	long long max = 40;
	int drop = 0;
	jv list;

	tg_param_str(call->params, "url", &url);
	if (tg_param_str(call->params, "secret_token", &secret) == 1 &&
	    *secret && !secret_ok(secret)) {
		tg_error(resp, 400, "Bad Request: secret token contains "
		    "unallowed characters", jv_null());
		return;
	}
	if (tg_param_int(call->params, "max_connections", &max) == 1 &&
	    (max < 1 || max > 100)) {
		tg_error(resp, 400, "Bad Request: bad webhook: invalid "
		    "max_connections specified", jv_null());
		return;
	}
	if (*url && strncasecmp(url, "https://", 8) != 0 &&
	    strncasecmp(url, "http://", 7) != 0) {
		tg_error(resp, 400, "Bad Request: bad webhook: HTTPS url must "
		    "be provided for webhook", jv_null());
		return;
	}
	tg_param_bool(call->params, "drop_pending_updates", &drop);
	if (drop)
		tg_drop_all(b);
	if (tg_param_json(call->params, "allowed_updates", &list) == 1)
		tg_set_allowed(b, list);
	if (!*url) {
		hook_clear(b);
		fake_reply_json(resp, 200, sl_set(sl_set(sl_set(jv_object(),
		    "ok", jv_true()), "result", jv_true()), "description",
		    jv_string("Webhook was deleted")));
		return;
	}
	free(b->hook_url);
	free(b->hook_secret);
	b->hook_url = sl_strdup(url);
	b->hook_secret = secret && *secret ? sl_strdup(secret) : NULL;
	b->hook_max = (int)max;
	free(b->hook_err_msg);
	b->hook_err_msg = NULL;
	b->hook_err_date = 0;
	/* A waiting getUpdates ends with 409. */
	b->poll_gen++;
	if (!curl_ready) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		curl_ready = 1;
	}
	if (!b->hook)
		b->hook = tg_worker_start(b, TG_HOOK, hook_main, NULL);
	fake_notify();
	fake_reply_json(resp, 200, sl_set(sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "result", jv_true()), "description",
	    jv_string("Webhook was set")));
}

void
tg_delete_webhook(struct tg_call *call, struct fake_resp *resp)
{
	struct tg_bot *b = call->bot;
	int drop = 0, had = b->hook_url != NULL;

	tg_param_bool(call->params, "drop_pending_updates", &drop);
	if (drop)
		tg_drop_all(b);
	hook_clear(b);
	fake_reply_json(resp, 200, sl_set(sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "result", jv_true()), "description",
	    jv_string(had ? "Webhook was deleted" :
	    "Webhook is already deleted")));
}

void
tg_get_webhook_info(struct tg_call *call, struct fake_resp *resp)
{
	struct tg_bot *b = call->bot;
	jv w = jv_object();

	w = sl_set(w, "url", jv_string(b->hook_url ? b->hook_url : ""));
	w = sl_set(w, "has_custom_certificate", jv_false());
	w = sl_set(w, "pending_update_count", jv_number((double)tg_queued(b)));
	if (b->hook_url) {
		w = sl_set(w, "max_connections", jv_number(b->hook_max));
		w = sl_set(w, "ip_address", jv_string("127.0.0.1"));
	}
	if (b->hook_err_msg) {
		w = sl_set(w, "last_error_date",
		    jv_number((double)b->hook_err_date));
		w = sl_set(w, "last_error_message",
		    jv_string(b->hook_err_msg));
	}
	if (jv_get_kind(b->allowed_list) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(b->allowed_list)) > 0)
		w = sl_set(w, "allowed_updates", jv_copy(b->allowed_list));
	tg_ok(resp, w);
}

void
tg_hook_cleanup(void)
{
	if (curl_ready)
		curl_global_cleanup();
	curl_ready = 0;
}
