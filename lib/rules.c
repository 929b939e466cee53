/*
 * rules.c: the rules engine's data.  Loads the skills (templates, intents,
 * stages, tone rules) and the knowledge base, which is split into
 * passages at its "##" and "###" headings; finds in it each service's
 * name, price and timeline (the price list table), what it includes (the
 * "what ... includes" passages), the presentation and case links, and the
 * amounts of money it names, which become the tone rules' allowed prices.
 * Fills templates and searches passages for the dialogue (rules_turn.c).
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "rules_impl.h"
#include "sl.h"

#define FILE_MAX (4 * 1024 * 1024)

/* Cues the data has no list for, documented in rules.h. */
static const char *const inject_cues[] = {
	"игнорируй*", "игнорируйте*", "забудь все", "забудьте все",
	"забудь предыдущ*", "забудьте предыдущ*", "системный промпт",
	"системные инструкции", "покажи инструкции", "покажите инструкции",
	"покажи промпт", "покажите промпт", "твои инструкции",
	"ваши инструкции", "свои инструкции", "промпт*", "режим разработчика",
	"ignore previous", "ignore all", "ignore the above", "ignore your",
	"disregard*", "system prompt", "your instructions", "your prompt",
	"developer mode", "jailbreak", "reveal your", "print your",
};
static const char *const callme_cues[] = {
	"позвоните", "перезвоните", "позвонить мне", "наберите меня",
	"звякните", "call me", "give me a call", "phone me", "ring me",
	"call back",
};
static const char *const write_cues[] = {
	"напишите", "пишите", "написать", "свяжитесь", "связаться",
	"свяжемся", "спишемся", "вернемся", "вернитесь", "вернуться",
	"напомните", "write", "ping", "contact me", "get back", "follow up",
	"reach out", "remind me", "text me",
};
static const char *const question_words[] = {
	"что", "как", "какой", "какая", "какие", "какое", "каких", "сколько",
	"когда", "где", "почему", "зачем", "можно", "есть ли", "ли", "кто",
	"what", "how", "which", "when", "where", "why", "can", "do", "does",
	"is", "are", "could", "who",
};
static const char *const budget_none_cues[] = {
	"бюджета нет", "нет бюджета", "бюджет не выделен", "no budget",
};
static const char *const budget_flex_cues[] = {
	"цена не главное", "бюджет не ограничен", "price is not the issue",
	"budget is flexible",
};
static const char *const need_extra[] = { "crm", "срм", "црм" };
static const char *const stopwords[] = {
	"что", "как", "какой", "какая", "какие", "какое", "каких", "это",
	"этот", "для", "или", "можно", "есть", "ваш", "ваши", "вас", "вам",
	"нас", "нам", "мне", "меня", "нужно", "надо", "сколько", "ли", "вы",
	"мы", "при", "так", "уже", "еще", "там", "тут", "the", "and", "you",
	"your", "what", "how", "which", "with", "can", "does", "are", "for",
	"our", "have", "has", "there", "this", "that", "need", "from",
};

static void
seterr(char *err, size_t errlen, const char *fmt, const char *a,
    const char *b)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, fmt, a, b);
}

/* The file's bytes, NUL-terminated, in *buf; -1 with errno. */
static int
read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 8192, k;
	char *b;

	if (f == NULL)
		return -1;
	b = sl_malloc(cap);
	while ((k = fread(b + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (n + 1 == cap) {
			if (cap >= FILE_MAX) {
				free(b);
				fclose(f);
				errno = EFBIG;
				return -1;
			}
			cap *= 2;
			b = sl_realloc(b, cap);
		}
	}
	if (ferror(f)) {
		free(b);
		fclose(f);
		errno = EIO;
		return -1;
	}
	fclose(f);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* dir/rel parsed as an object, or an invalid value with err set. */
static jv
load_json(const char *dir, const char *rel, char *err, size_t errlen)
{
	char *path = sl_asprintf("%s/%s", dir, rel), *buf;
	size_t len;
	jv v;

	if (read_file(path, &buf, &len) < 0) {
		seterr(err, errlen, "cannot read '%s': %s", rel,
		    strerror(errno));
		free(path);
		return jv_invalid();
	}
	free(path);
	v = sl_parse(buf, len);
	free(buf);
	if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_OBJECT) {
		seterr(err, errlen, "'%s': %s", rel, jv_is_valid(v) ?
		    "expected an object" : "not JSON");
		jv_free(v);
		return jv_invalid();
	}
	return v;
}

/* obj[key] (borrows obj): a copy, or null when absent or no object. */
static jv
field(jv obj, const char *key)
{
	jv v;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_null();
	v = jv_object_get(jv_copy(obj), jv_string(key));
	if (!jv_is_valid(v)) {
		jv_free(v);
		return jv_null();
	}
	return v;
}

/* obj.a, or obj.a.b when b is not NULL (borrows obj). */
static jv
path_get(jv obj, const char *a, const char *b)
{
	jv v = field(obj, a), w;

	if (b == NULL)
		return v;
	w = field(v, b);
	jv_free(v);
	return w;
}

static void
cues_list(struct rl_cues *c, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		rl_cues_add(c, v[i]);
}

#define CUES(c, list) cues_list(c, list, sizeof list / sizeof list[0])

static int
load_intents(struct sl_rules *r, jv doc, char *err, size_t errlen)
{
	jv pri = path_get(doc, "priority", NULL);
	jv all = path_get(doc, "intents", NULL), slot, v;
	int rc = -1;

	if (jv_get_kind(pri) != JV_KIND_ARRAY ||
	    jv_get_kind(all) != JV_KIND_OBJECT) {
		seterr(err, errlen, "'intents.json': %s%s",
		    "expected 'priority' and 'intents'", "");
		goto out;
	}
	r->intent = sl_calloc((size_t)jv_array_length(jv_copy(pri)) + 1,
	    sizeof *r->intent);
	jv_array_foreach(pri, i, name) {
		struct rl_intent *in;

		(void)i;
		if (jv_get_kind(name) != JV_KIND_STRING) {
			jv_free(name);
			continue;
		}
		in = &r->intent[r->nintent++];
		in->name = sl_strdup(jv_string_value(name));
		v = path_get(all, jv_string_value(name), NULL);
		jv_free(name);
		if (jv_get_kind(v) == JV_KIND_OBJECT) {
			rl_cues_from(&in->cues, path_get(v, "ru", NULL));
			rl_cues_from(&in->cues, path_get(v, "en", NULL));
		}
		jv_free(v);
	}
	slot = path_get(doc, "slot_cues", NULL);
	rl_cues_from(&r->need, path_get(slot, "need", "ru"));
	rl_cues_from(&r->need, path_get(slot, "need", "en"));
	CUES(&r->need, need_extra);
	v = path_get(slot, "need", "service_names");
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv_object_foreach(v, k, list) {
			if (r->nsvc < RL_SVC_MAX &&
			    jv_get_kind(list) == JV_KIND_ARRAY) {
				struct rl_service *s = &r->svc[r->nsvc++];
				size_t j;

				s->id = sl_strdup(jv_string_value(k));
				rl_cues_from(&s->stems, list);
				for (j = 0; j < s->stems.n; j++) {
					struct rl_cue *c = &s->stems.v[j];

					if (!c->prefix && !c->stem)
						c->s[--c->len] = '\0';
					c->prefix = 1;	/* all stems */
					c->stem = 0;
				}
			} else {
				jv_free(list);
			}
			jv_free(k);
		}
	}
	jv_free(v);
	rl_cues_from(&r->budget, path_get(slot, "budget", "ru"));
	rl_cues_from(&r->budget, path_get(slot, "budget", "en"));
	v = path_get(slot, "authority", NULL);
	rl_cues_from(&r->dm, path_get(v, "decision_maker", NULL));
	rl_cues_from(&r->influencer, path_get(v, "influencer", NULL));
	jv_free(v);
	v = path_get(slot, "timeline", NULL);
	rl_cues_from(&r->tl_now, path_get(v, "now", NULL));
	rl_cues_from(&r->tl_later, path_get(v, "later", NULL));
	rl_cues_from(&r->tl_unknown, path_get(v, "unknown", NULL));
	jv_free(v);
	jv_free(slot);
	CUES(&r->inject, inject_cues);
	CUES(&r->callme, callme_cues);
	CUES(&r->write, write_cues);
	CUES(&r->qwords, question_words);
	CUES(&r->budget_none, budget_none_cues);
	CUES(&r->budget_flex, budget_flex_cues);
	rc = 0;
out:
	jv_free(pri);
	jv_free(all);
	return rc;
}

static int
get_int(jv obj, const char *a, const char *b, int def)
{
	jv v = path_get(obj, a, b);
	int n = def;

	if (jv_get_kind(v) == JV_KIND_NUMBER && jv_number_value(v) >= 1 &&
	    jv_number_value(v) <= 100)
		n = (int)jv_number_value(v);
	jv_free(v);
	return n;
}

static char *
get_strdup(jv obj, const char *a, const char *b, const char *def)
{
	jv v = path_get(obj, a, b);
	char *s = sl_strdup(jv_get_kind(v) == JV_KIND_STRING ?
	    jv_string_value(v) : def);

	jv_free(v);
	return s;
}

static void
load_stages(struct sl_rules *r, jv doc)
{
	r->slots_to_offer = get_int(doc, "booking", "slots_to_offer", 3);
	r->search_days = get_int(doc, "booking", "search_days", 7);
	r->min_besides_need = get_int(doc, "slots", "min_filled_besides_need",
	    2);
	r->max_asks = get_int(doc, "slots", "max_asks_per_slot", 2);
	r->topic[0] = get_strdup(doc, "booking", "topic_ru",
	    "Знакомство с «Ниткой»");
	r->topic[1] = get_strdup(doc, "booking", "topic_en",
	    "Introduction to Nitka");
}

int
rl_lang_index(const char *lang)
{
	return lang != NULL && strcmp(lang, "en") == 0;
}

/* s without white space at either end, a new string. */
static char *
trimdup(const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return sl_strndup(s, n);
}

static char *
normdup(const char *s)
{
	size_t len = strlen(s), size = 3 * len + 4;
	char *out = sl_malloc(size);

	rl_norm(s, len, out, size);
	return out;
}

static void
add_passage(struct sl_rules *r, const char *lang, const char *head,
    size_t hl, const char *body, size_t bl)
{
	struct rl_passage *p;
	char *b = trimdup(body, bl), *t;

	if (*b == '\0') {
		free(b);
		return;
	}
	r->kb = sl_realloc(r->kb, (r->nkb + 1) * sizeof *r->kb);
	p = &r->kb[r->nkb++];
	snprintf(p->lang, sizeof p->lang, "%s", lang);
	p->heading = trimdup(head, hl);
	p->body = b;
	p->faq = hl > 0 && p->heading[0] != '\0' &&
	    p->heading[strlen(p->heading) - 1] == '?';
	t = sl_asprintf("%s\n%s", p->heading, p->body);
	p->norm = normdup(t);
	free(t);
	p->hnorm = normdup(p->heading);
}

/* Splits one Markdown file into passages at "## " and "### ". */
static void
split_md(struct sl_rules *r, const char *lang, const char *text)
{
	const char *line = text, *nl, *head = NULL, *body = NULL;
	size_t hl = 0;

	for (; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		if (line[0] == '#') {
			if (head != NULL)
				add_passage(r, lang, head, hl, body,
				    (size_t)(line - body));
			head = NULL;
			if (strncmp(line, "## ", 3) == 0 ||
			    strncmp(line, "### ", 4) == 0) {
				head = strchr(line, ' ') + 1;
				hl = (size_t)(nl - head);
				body = *nl != '\0' ? nl + 1 : nl;
			}
		}
		if (*nl == '\0')
			break;
	}
	if (head != NULL)
		add_passage(r, lang, head, hl, body, strlen(body));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
load_kb(struct sl_rules *r, const char *dir, const char *lang, char *err,
    size_t errlen)
{
	char *path = sl_asprintf("%s/knowledge/%s", dir, lang), *file, *text;
	char **names = NULL;
	size_t n = 0, i, len;
	struct dirent *e;
	DIR *d = opendir(path);
	int rc = -1;

	if (d == NULL) {
		seterr(err, errlen, "cannot read 'knowledge/%s': %s", lang,
		    strerror(errno));
		goto out;
	}
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 4 || e->d_name[0] == '.' ||
		    strcmp(e->d_name + len - 3, ".md") != 0)
			continue;
		names = sl_realloc(names, (n + 1) * sizeof *names);
		names[n++] = sl_strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	rc = 0;
	for (i = 0; i < n; i++) {
		file = sl_asprintf("%s/%s", path, names[i]);
		if (read_file(file, &text, &len) < 0) {
			seterr(err, errlen, "cannot read '%s': %s", names[i],
			    strerror(errno));
			rc = -1;
		} else {
			split_md(r, lang, text);
			free(text);
		}
		free(file);
	}
	if (rc == 0 && n == 0) {
		seterr(err, errlen, "'knowledge/%s': %s", lang, "no .md files");
		rc = -1;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
out:
	free(path);
	return rc;
}

/* The amounts of money the knowledge base names, as allowed prices. */
static void
kb_prices(struct sl_rules *r)
{
	struct sl_tone_rules t = r->tone;
	struct sl_tone_hit hit[64], *h;
	size_t i, j, k, n;

	t.allowed_prices = NULL;
	t.nallowed = 0;
	t.check_prices = 1;
	for (i = 0; i < r->nkb; i++) {
		const char *b = r->kb[i].body;

		n = sl_tone_scan(b, strlen(b), NULL, &t, hit, 64);
		h = hit;
		if (n > 64) {
			h = sl_calloc(n, sizeof *h);
			sl_tone_scan(b, strlen(b), NULL, &t, h, n);
		}
		for (j = 0; j < n; j++) {
			if (h[j].rule != SL_TONE_INVENTED_PRICE)
				continue;
			for (k = 0; k < r->nprices; k++)
				if (strcmp(r->prices[k], h[j].amount) == 0)
					break;
			if (k < r->nprices)
				continue;
			r->prices = sl_realloc(r->prices, (r->nprices + 1) *
			    sizeof *r->prices);
			r->prices[r->nprices++] = sl_strdup(h[j].amount);
		}
		if (h != hit)
			free(h);
	}
	r->tone.allowed_prices = (const char *const *)r->prices;
	r->tone.nallowed = r->nprices;
	r->tone.check_prices = 1;
}

/* The service whose stems a normalised text names, or -1. */
static int
service_of(const struct sl_rules *r, const char *norm)
{
	size_t i;

	for (i = 0; i < r->nsvc; i++)
		if (rl_match(&r->svc[i].stems, norm, NULL, NULL) >= 0)
			return (int)i;
	return -1;
}

/* Rows of the price list: | name | price | timeline |. */
static void
price_rows(struct sl_rules *r, const struct rl_passage *p)
{
	const char *line = p->body, *nl, *c[4];
	size_t cl[4], k;
	int s, li = rl_lang_index(p->lang);
	char *name, *norm;

	for (; *line != '\0'; line = *nl ? nl + 1 : nl) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		if (line[0] != '|')
			continue;
		for (k = 0, c[0] = line + 1; k < 4; k++) {
			const char *e = memchr(c[k], '|', (size_t)(nl - c[k]));

			if (e == NULL)
				break;
			cl[k] = (size_t)(e - c[k]);
			if (k + 1 < 4)
				c[k + 1] = e + 1;
		}
		if (k < 3)
			continue;
		name = trimdup(c[0], cl[0]);
		norm = normdup(name);
		s = service_of(r, norm);
		free(norm);
		if (s < 0 || r->svc[s].f[li].price != NULL) {
			free(name);
			continue;
		}
		r->svc[s].f[li].name = name;
		r->svc[s].f[li].price = trimdup(c[1], cl[1]);
		r->svc[s].f[li].duration = trimdup(c[2], cl[2]);
	}
}

/* The first sentence of s, cut at a comma to at most 100 characters,
 * with a small first letter: "до 25 пользователей, до 3 воронок". */
static char *
short_list(const char *s)
{
	size_t i, n = 0, cut = 0, chars = 0;
	unsigned char *o;
	char *out;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '.' && (s[i + 1] == ' ' || s[i + 1] == '\0' ||
		    s[i + 1] == '\n'))
			break;
		if ((s[i] & 0xc0) != 0x80)
			chars++;
		if (s[i] == ',' && chars <= 100)
			cut = i;
		if (chars > 100)
			break;
	}
	n = s[i] != '\0' && s[i] != '.' && cut > 0 ? cut : i;
	out = sl_strndup(s, n);
	o = (unsigned char *)out;
	if (o[0] >= 'A' && o[0] <= 'Z' && !(o[1] >= 'A' && o[1] <= 'Z'))
		o[0] += 32;
	else if (o[0] == 0xd0 && o[1] >= 0x90 && o[1] <= 0x9f &&
	    !(o[2] == 0xd0 && o[3] >= 0x90 && o[3] <= 0xaf))
		o[1] += 0x20;
	else if (o[0] == 0xd0 && o[1] >= 0xa0 && o[1] <= 0xaf &&
	    !(o[2] == 0xd0 && o[3] >= 0x90 && o[3] <= 0xaf)) {
		o[0] = 0xd1;
		o[1] -= 0x20;
	}
	return out;
}

static void
kb_facts(struct sl_rules *r)
{
	size_t i, j, pass;
	int s, li;
	char *t;

	for (i = 0; i < r->nkb; i++)
		if (strstr(r->kb[i].body, "\n|") != NULL ||
		    r->kb[i].body[0] == '|')
			price_rows(r, &r->kb[i]);
	/* what each service includes: "### Что входит в «Рост»" first */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < r->nkb; i++) {
			struct rl_passage *p = &r->kb[i];

			if (p->faq != (int)pass || (strstr(p->hnorm,
			    " входит ") == NULL && strstr(p->hnorm,
			    " includ") == NULL))
				continue;
			s = service_of(r, p->hnorm);
			li = rl_lang_index(p->lang);
			if (s >= 0 && r->svc[s].f[li].includes == NULL)
				r->svc[s].f[li].includes = short_list(p->body);
		}
	/* the presentation and the examples of projects */
	for (i = 0; i < r->nkb && (r->deck == NULL || r->cases == NULL);
	    i++) {
		const char *b = r->kb[i].body, *u;

		for (u = strstr(b, "https://"); u != NULL;
		    u = strstr(u + 1, "https://")) {
			for (j = 0; u[j] != '\0' && u[j] != ' ' &&
			    u[j] != '\n' && u[j] != ',' && u[j] != ')'; j++)
				;
			while (j > 0 && u[j - 1] == '.')
				j--;
			t = sl_strndup(u, j);
			if (r->deck == NULL && j > 5 &&
			    strcmp(t + j - 5, "/deck") == 0)
				r->deck = t;
			else if (r->cases == NULL && j > 6 &&
			    strcmp(t + j - 6, "/cases") == 0)
				r->cases = t;
			else
				free(t);
		}
	}
}

struct sl_rules *
sl_rules_load(const char *dir, char *err, size_t errlen)
{
	struct sl_rules *r = sl_calloc(1, sizeof *r);
	jv doc;

	r->templates = jv_null();
	sl_tone_rules_default(&r->tone);
	doc = load_json(dir, "templates/templates.json", err, errlen);
	if (!jv_is_valid(doc))
		goto fail;
	r->templates = path_get(doc, "templates", NULL);
	jv_free(doc);
	if (jv_get_kind(r->templates) != JV_KIND_OBJECT) {
		seterr(err, errlen, "'templates.json': %s%s",
		    "expected 'templates'", "");
		goto fail;
	}
	doc = load_json(dir, "how-to-communicate/intents.json", err, errlen);
	if (!jv_is_valid(doc))
		goto fail;
	if (load_intents(r, doc, err, errlen) < 0) {
		jv_free(doc);
		goto fail;
	}
	jv_free(doc);
	doc = load_json(dir, "how-to-communicate/stages.json", err, errlen);
	if (!jv_is_valid(doc))
		goto fail;
	load_stages(r, doc);
	jv_free(doc);
	doc = load_json(dir, "tone-of-voice/rules.json", err, errlen);
	if (!jv_is_valid(doc))
		goto fail;
	if (sl_tone_rules_load(&r->tone, doc, err, errlen) < 0)
		goto fail;
	if (load_kb(r, dir, "ru", err, errlen) < 0 ||
	    load_kb(r, dir, "en", err, errlen) < 0)
		goto fail;
	kb_prices(r);
	kb_facts(r);
	return r;
fail:
	sl_rules_free(r);
	return NULL;
}

void
sl_rules_free(struct sl_rules *r)
{
	size_t i;
	int k;

	if (r == NULL)
		return;
	jv_free(r->templates);
	for (i = 0; i < r->nintent; i++) {
		free(r->intent[i].name);
		rl_cues_free(&r->intent[i].cues);
	}
	free(r->intent);
	rl_cues_free(&r->need);
	rl_cues_free(&r->budget);
	rl_cues_free(&r->dm);
	rl_cues_free(&r->influencer);
	rl_cues_free(&r->tl_now);
	rl_cues_free(&r->tl_later);
	rl_cues_free(&r->tl_unknown);
	rl_cues_free(&r->inject);
	rl_cues_free(&r->callme);
	rl_cues_free(&r->write);
	rl_cues_free(&r->qwords);
	rl_cues_free(&r->budget_none);
	rl_cues_free(&r->budget_flex);
	for (i = 0; i < r->nsvc; i++) {
		free(r->svc[i].id);
		rl_cues_free(&r->svc[i].stems);
		for (k = 0; k < 2; k++) {
			free(r->svc[i].f[k].name);
			free(r->svc[i].f[k].price);
			free(r->svc[i].f[k].duration);
			free(r->svc[i].f[k].includes);
		}
	}
	for (i = 0; i < r->nkb; i++) {
		free(r->kb[i].heading);
		free(r->kb[i].body);
		free(r->kb[i].norm);
		free(r->kb[i].hnorm);
	}
	free(r->kb);
	for (i = 0; i < r->nprices; i++)
		free(r->prices[i]);
	free(r->prices);
	sl_tone_rules_free(&r->tone);
	free(r->deck);
	free(r->cases);
	free(r->topic[0]);
	free(r->topic[1]);
	free(r);
}

uint32_t
rl_hash(const char *a, const char *b, long n)
{
	uint32_t h = 2166136261u;
	const char *s;
	char num[24];
	int k;

	for (k = 0; k < 3; k++) {
		if (k == 2)
			snprintf(num, sizeof num, "%ld", n);
		for (s = k == 0 ? a : k == 1 ? b : num; s != NULL && *s; s++) {
			h ^= (unsigned char)*s;
			h *= 16777619u;
		}
		h ^= ':';
		h *= 16777619u;
	}
	return h;
}

/* 0 when text breaks no tone rule (warnings included). */
int
rl_lint(const struct sl_rules *r, const char *text, const char *lang)
{
	return sl_tone_scan(text, strlen(text), lang, &r->tone, NULL, 0) ==
	    0 ? 0 : -1;
}

/* The variant s with its placeholders from vars; NULL when one lacks. */
static char *
fill_one(const char *s, jv vars)
{
	size_t cap = strlen(s) + 256, n = 0, k;
	char *out = sl_malloc(cap), name[32];
	const char *e, *v;

	while (*s != '\0') {
		v = NULL;
		k = 1;
		if (*s == '{' && (e = strchr(s, '}')) != NULL &&
		    (size_t)(e - s) < sizeof name) {
			memcpy(name, s + 1, (size_t)(e - s - 1));
			name[e - s - 1] = '\0';
			if (sl_get_str(vars, name, &v) != 1 || *v == '\0') {
				free(out);
				return NULL;
			}
			k = (size_t)(e - s) + 1;
		}
		if (v == NULL)
			v = s;
		if (n + strlen(v) + 2 > cap) {
			cap = 2 * cap + strlen(v);
			out = sl_realloc(out, cap);
		}
		if (v == s) {
			out[n++] = *s;
		} else {
			memcpy(out + n, v, strlen(v));
			n += strlen(v);
		}
		s += k;
	}
	out[n] = '\0';
	return out;
}

char *
rl_fill(const struct sl_rules *r, const char *key, const char *lang,
    jv vars, uint32_t seed)
{
	jv list = path_get(r->templates, key, lang), s;
	int n, k, i;
	char *out = NULL;

	if (jv_get_kind(list) != JV_KIND_ARRAY)
		goto out;
	n = jv_array_length(jv_copy(list));
	for (k = 0; k < n && out == NULL; k++) {
		i = (int)((seed + (uint32_t)k) % (uint32_t)n);
		s = jv_array_get(jv_copy(list), i);
		if (jv_get_kind(s) == JV_KIND_STRING) {
			out = fill_one(jv_string_value(s), vars);
			if (out != NULL && rl_lint(r, out, lang) < 0) {
				free(out);
				out = NULL;
			}
		}
		jv_free(s);
	}
out:
	jv_free(list);
	return out;
}

static int
is_stopword(const char *w, size_t wl)
{
	size_t i;

	for (i = 0; i < sizeof stopwords / sizeof stopwords[0]; i++)
		if (strlen(stopwords[i]) == wl &&
		    memcmp(stopwords[i], w, wl) == 0)
			return 1;
	return 0;
}

/*
 * The stems of a normalised query, " stem" each: words of 3 letters or
 * more that are no stop words, cut to 5 letters.  Returns how many.
 */
static size_t
stems(const char *qnorm, char stem[][16], size_t max)
{
	const char *p = qnorm, *w;
	size_t n = 0, wl, k, letters, i;

	while (n < max) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		w = p;
		while (*p != ' ' && *p != '\0')
			p++;
		wl = (size_t)(p - w);
		for (k = 0, letters = 0; k < wl; k++)
			if ((w[k] & 0xc0) != 0x80)
				letters++;
		if (letters < 3 || (w[0] >= '0' && w[0] <= '9') ||
		    is_stopword(w, wl))
			continue;
		for (k = 0, letters = 0; k < wl && letters < 5; k++)
			if ((w[k] & 0xc0) != 0x80)
				letters++;
		while (k < wl && (w[k] & 0xc0) == 0x80)
			k++;
		if (k + 2 > 16)
			continue;
		stem[n][0] = ' ';
		memcpy(stem[n] + 1, w, k);
		stem[n][k + 1] = '\0';
		for (i = 0; i < n && strcmp(stem[i], stem[n]) != 0; i++)
			;
		if (i == n)
			n++;
	}
	return n;
}

/* The score of a passage: the weights of the stems it has, twice in its
 * heading, times the share of the stems found. */
static double
score(char stem[][16], const double *w, size_t n, const char *hnorm,
    const char *norm)
{
	double s = 0;
	size_t i, found = 0;

	for (i = 0; i < n; i++) {
		if (strstr(norm, stem[i]) == NULL)
			continue;
		found++;
		s += w[i] * (hnorm != NULL && strstr(hnorm, stem[i]) ? 2 : 1);
	}
	return n ? s * (double)found / (double)n : 0;
}

int
rl_search(const struct sl_rules *r, const char *qnorm, const char *lang,
    double *best)
{
	char stem[16][16];
	double w[16], s;
	size_t n, i, j, df, total = 0;
	int b = -1;

	*best = 0;
	n = stems(qnorm, stem, 16);
	for (i = 0; i < r->nkb; i++)
		total += strcmp(r->kb[i].lang, lang) == 0;
	for (j = 0; j < n; j++) {
		for (i = 0, df = 0; i < r->nkb; i++)
			if (strcmp(r->kb[i].lang, lang) == 0 &&
			    strstr(r->kb[i].norm, stem[j]) != NULL)
				df++;
		w[j] = log(((double)total + 1) / ((double)df + 0.5));
	}
	for (i = 0; i < r->nkb; i++) {
		if (strcmp(r->kb[i].lang, lang) != 0)
			continue;
		s = score(stem, w, n, r->kb[i].hnorm, r->kb[i].norm);
		if (r->kb[i].faq)
			s *= 1.25;	/* an answer to a question */
		if (s > *best) {
			*best = s;
			b = (int)i;
		}
	}
	return b;
}

/* The share of the query's stems that pnorm has (caller's passages). */
double
rl_search_in(const char *qnorm, const char *pnorm)
{
	char stem[16][16];
	double w[16];
	size_t n, i;

	n = stems(qnorm, stem, 16);
	for (i = 0; i < n; i++)
		w[i] = 1;
	return score(stem, w, n, NULL, pnorm);
}

const struct sl_tone_rules *
sl_rules_tone(const struct sl_rules *r)
{
	return &r->tone;
}

void
sl_rules_each_passage(const struct sl_rules *r,
    void (*fn)(void *, const char *), void *arg)
{
	size_t i;

	for (i = 0; i < r->nkb; i++)
		fn(arg, r->kb[i].body);
}
