/*
 * score_cfg.c: what score-conv reads from skills/ before it scores: the
 * tone rules (tone-of-voice/rules.json), the amounts of money the
 * knowledge base names (knowledge/{ru,en}/ *.md), which become the tone
 * rules' allowed prices as they are for agent-reply, and the cue words
 * of the prospect's intents (how-to-communicate/intents.json).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "score.h"
#include "score_impl.h"
#include "sl.h"

/* The whole file path as a new NUL-terminated string, or NULL (errno). */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	struct sl_buf b = { NULL, 0, 0 };
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		sl_buf_add(&b, chunk, n);
	if (ferror(f)) {
		fclose(f);
		free(b.s);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	if (b.s == NULL)
		sl_buf_add(&b, "", 0);
	*len = b.len;
	return b.s;
}

static void
add_price(struct sl_score_cfg *cfg, const char *amount)
{
	size_t i;

	for (i = 0; i < cfg->nprices; i++)
		if (strcmp(cfg->prices[i], amount) == 0)
			return;
	cfg->prices = sl_realloc(cfg->prices, (cfg->nprices + 1) *
	    sizeof *cfg->prices);
	cfg->prices[cfg->nprices++] = sl_strdup(amount);
}

/* The amounts of text, found as invented prices when none is allowed. */
static void
text_prices(struct sl_score_cfg *cfg, const char *text, size_t len)
{
	struct sl_tone_rules t = cfg->tone;
	struct sl_tone_hit hit[64], *h = hit;
	size_t n, i;

	t.allowed_prices = NULL;
	t.nallowed = 0;
	t.check_prices = 1;
	n = sl_tone_scan(text, len, NULL, &t, hit, 64);
	if (n > 64) {
		h = sl_calloc(n, sizeof *h);
		sl_tone_scan(text, len, NULL, &t, h, n);
	}
	for (i = 0; i < n; i++)
		if (h[i].rule == SL_TONE_INVENTED_PRICE)
			add_price(cfg, h[i].amount);
	if (h != hit)
		free(h);
}

static int
kb_prices(struct sl_score_cfg *cfg, const char *skills, char *err,
    size_t errlen)
{
	static const char *const langs[] = { "ru", "en" };
	struct dirent *d;
	char *dir, *path, *text;
	size_t i, len, nl;
	DIR *dp;

	for (i = 0; i < 2; i++) {
		dir = sl_asprintf("%s/knowledge/%s", skills, langs[i]);
		if ((dp = opendir(dir)) == NULL) {
			free(dir);
			continue;	/* a knowledge base is optional */
		}
		while ((d = readdir(dp)) != NULL) {
			nl = strlen(d->d_name);
			if (nl < 4 || strcmp(d->d_name + nl - 3, ".md") != 0)
				continue;
			path = sl_asprintf("%s/%s", dir, d->d_name);
			if ((text = slurp(path, &len)) == NULL) {
				snprintf(err, errlen, "cannot read '%s': %s",
				    path, strerror(errno));
				free(path);
				closedir(dp);
				free(dir);
				return -1;
			}
			text_prices(cfg, text, len);
			free(text);
			free(path);
		}
		closedir(dp);
		free(dir);
	}
	return 0;
}

/* The cues of intents.json of an intent (borrowed) into list. */
static void
cues_of(struct sc_cues *list, jv intent, int drop_verbs)
{
	static const char *const langs[] = { "ru", "en" };
	static const char *const verbs[] = { "напишите", "свяжитесь",
		"write me", "write to me", "get back" };
	size_t i, k;
	int j, n;

	for (i = 0; i < 2; i++) {
		jv a = jv_object_get(jv_copy(intent), jv_string(langs[i]));

		n = jv_get_kind(a) == JV_KIND_ARRAY ?
		    jv_array_length(jv_copy(a)) : 0;
		for (j = 0; j < n; j++) {
			jv s = jv_array_get(jv_copy(a), j);

			if (jv_get_kind(s) == JV_KIND_STRING) {
				const char *cue = jv_string_value(s);

				for (k = 0; drop_verbs && k < 5; k++)
					if (strcmp(cue, verbs[k]) == 0)
						break;
				if (!drop_verbs || k == 5)
					sc_cues_add(list, cue);
			}
			jv_free(s);
		}
		jv_free(a);
	}
}

static void
load_intents(struct sl_score_cfg *cfg, jv doc)
{
	struct sc_cfg_cues *cu = sl_calloc(1, sizeof *cu);
	jv intents, names, it, v;
	int i, n;
	const char *name;

	cfg->cues = cu;
	intents = jv_get_kind(doc) == JV_KIND_OBJECT ?
	    jv_object_get(jv_copy(doc), jv_string("intents")) : jv_null();
	if (jv_get_kind(intents) != JV_KIND_OBJECT) {
		jv_free(intents);
		jv_free(doc);
		return;
	}
	names = jv_keys(jv_copy(intents));
	n = jv_array_length(jv_copy(names));
	for (i = 0; i < n; i++) {
		v = jv_array_get(jv_copy(names), i);
		name = jv_string_value(v);
		it = jv_object_get(jv_copy(intents), jv_copy(v));
		if (strcmp(name, "stop") == 0)
			cues_of(&cu->stop, it, 0);
		else if (strcmp(name, "meeting_request") == 0)
			cues_of(&cu->meeting, it, 0);
		else if (strcmp(name, "followup_later") == 0)
			cues_of(&cu->followup, it, 1);
		else if (strcmp(name, "is_bot") == 0)
			cues_of(&cu->is_bot, it, 0);
		else if (strncmp(name, "objection_", 10) == 0)
			cues_of(&cu->objection, it, 0);
		else if (jv_get_kind(it) == JV_KIND_OBJECT) {
			jv e = jv_object_get(jv_copy(it), jv_string("escalate"));

			if (jv_get_kind(e) == JV_KIND_TRUE)
				cues_of(&cu->escalate, it, 0);
			jv_free(e);
		}
		jv_free(it);
		jv_free(v);
	}
	jv_free(names);
	jv_free(intents);
	jv_free(doc);
}

int
sl_score_cfg_load(struct sl_score_cfg *cfg, const char *skills, char *err,
    size_t errlen)
{
	char *path, *text, e2[256];
	size_t len;
	int rc = -1;

	memset(cfg, 0, sizeof *cfg);
	cfg->slow_s = 120;
	cfg->late_s = 900;
	sl_tone_rules_default(&cfg->tone);
	path = sl_asprintf("%s/tone-of-voice/rules.json", skills);
	if ((text = slurp(path, &len)) == NULL) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (sl_tone_rules_load(&cfg->tone, sl_parse(text, len), e2,
	    sizeof e2) < 0) {
		snprintf(err, errlen, "'%s': %s", path, e2);
		goto out;
	}
	free(text);
	free(path);
	path = sl_asprintf("%s/how-to-communicate/intents.json", skills);
	if ((text = slurp(path, &len)) == NULL) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	load_intents(cfg, sl_parse(text, len));
	if (kb_prices(cfg, skills, err, errlen) < 0)
		goto out;
	/* the prices rules.json allows stay allowed */
	for (len = 0; len < cfg->tone.nallowed; len++)
		add_price(cfg, cfg->tone.allowed_prices[len]);
	cfg->tone.allowed_prices = (const char *const *)cfg->prices;
	cfg->tone.nallowed = cfg->nprices;
	cfg->tone.check_prices = 1;
	rc = 0;
out:
	free(text);
	free(path);
	return rc;
}

void
sl_score_cfg_free(struct sl_score_cfg *cfg)
{
	struct sc_cfg_cues *cu = cfg->cues;
	size_t i;

	sl_tone_rules_free(&cfg->tone);
	for (i = 0; i < cfg->nprices; i++)
		free(cfg->prices[i]);
	free(cfg->prices);
	if (cu) {
		sc_cues_free(&cu->stop);
		sc_cues_free(&cu->meeting);
		sc_cues_free(&cu->followup);
		sc_cues_free(&cu->is_bot);
		sc_cues_free(&cu->objection);
		sc_cues_free(&cu->escalate);
		free(cu);
	}
	memset(cfg, 0, sizeof *cfg);
}
