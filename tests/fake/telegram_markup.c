/*
 * telegram_markup.c: parse_mode in fake-api's Telegram, so that a client
 * that sends bad markup gets the error Telegram gives.
 *
 * Follows the rules of the Bot API's "Formatting options" and the error
 * texts of TDLib's parsers (the Bot API server passes them through after
 * "Bad Request: can't parse entities: "):
 *
 *   HTML        tags b strong i em u ins s strike del tg-spoiler a code
 *               pre blockquote tg-emoji, and span class="tg-spoiler";
 *               entities &lt; &gt; &amp; &quot; and numeric ones (any
 *               other & stays as it is); tags must nest.
 *   MarkdownV2  _ * __ ~ || ` ``` [text](url) ![e](tg://emoji?id=) and >
 *               at a line start; every other reserved character
 *               _*[]()~`>#+-=|{}.! must be escaped with a backslash.
 *   Markdown    the legacy mode: * _ ` ``` [text](url), no nesting.
 *
 * The result is the text without markup and with leading and trailing
 * white space removed, and its entities (offsets in UTF-16 code units),
 * so the length limit applies to what the user sees, as in Telegram.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonl.h"
#include "sl.h"
#include "telegram.h"

#define PREFIX "Bad Request: can't parse entities: "

struct open_tag {
	char name[16];		/* HTML tag, or the entity type */
	size_t byte;		/* where it starts in the input */
	size_t u16;		/* where it starts in the output */
	char *arg;		/* href, language, emoji id, "expandable" */
};

struct parse {
	const char *t;
	size_t n, i;
	struct tg_buf out;
	size_t u16;
	struct open_tag *st;
	size_t nst, capst;
	jv ents;
	char *err;
	size_t errsize;
};

size_t
tg_utf16_len(const char *s, size_t n)
{
	size_t i, u = 0;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c & 0xc0) == 0x80)
			continue;
		u += c >= 0xf0 ? 2 : 1;
	}
	return u;
}

static void
emit(struct parse *p, const char *s, size_t n)
{
	tg_buf_add(&p->out, s, n);
	p->u16 += tg_utf16_len(s, n);
}

/* Appends code point cp as UTF-8. */
static void
emit_cp(struct parse *p, unsigned long cp)
{
	char b[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	emit(p, b, n);
}

static int
fail(struct parse *p, const char *fmt, ...) SL_PRINTF(2, 3);

static int
fail(struct parse *p, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errsize, PREFIX "%s", msg);
	return -1;
}

static void
push(struct parse *p, const char *name, size_t byte, char *arg)
{
	struct open_tag *o;

	if (p->nst == p->capst) {
		p->capst = p->capst ? p->capst * 2 : 8;
		p->st = sl_realloc(p->st, p->capst * sizeof *p->st);
	}
	o = &p->st[p->nst++];
	snprintf(o->name, sizeof o->name, "%s", name);
	o->byte = byte;
	o->u16 = p->u16;
	o->arg = arg;
}

/* Adds an entity of type for the top tag, if it covers any text. */
static void
entity(struct parse *p, const char *type, const char *key, const char *val)
{
	struct open_tag *o = &p->st[p->nst - 1];
	jv e;

	if (p->u16 <= o->u16)
		return;
	e = sl_set(jv_object(), "offset", jv_number((double)o->u16));
	e = sl_set(e, "length", jv_number((double)(p->u16 - o->u16)));
	e = sl_set(e, "type", jv_string(type));
	if (key && val && *val)
		e = sl_set(e, key, jv_string(val));
	p->ents = jv_array_append(p->ents, e);
}

static void
pop(struct parse *p)
{
	free(p->st[--p->nst].arg);
}

/*
 * HTML.
 */

static const char *const html_tags[] = {
	"b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
	"tg-spoiler", "span", "a", "code", "pre", "blockquote", "tg-emoji",
	NULL
};

/* Decodes the entity at t[i] ('&'); returns its length, 0 if none. */
static size_t
html_entity(struct parse *p, size_t i)
{
	static const struct {
		const char *name;
		unsigned long cp;
	} named[] = {
		{ "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' },
		{ NULL, 0 },
	};
	const char *t = p->t + i + 1;
	unsigned long cp = 0;
	size_t k = 0, j;
	int hex;

	if (*t == '#') {
		hex = t[1] == 'x' || t[1] == 'X';
		k = hex ? 2 : 1;
		for (j = k; ; j++) {
			char c = t[j];
			int d = c >= '0' && c <= '9' ? c - '0' :
			    hex && c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			    hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

			if (d < 0 || j - k > 8)
				break;
			cp = cp * (hex ? 16 : 10) + (unsigned long)d;
		}
		if (j == k || t[j] != ';')
			return 0;
		emit_cp(p, cp);
		return j + 2;
	}
	for (k = 0; named[k].name; k++) {
		j = strlen(named[k].name);
		if (strncmp(t, named[k].name, j) == 0 && t[j] == ';') {
			emit_cp(p, named[k].cp);
			return j + 2;
		}
	}
	return 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static int
html_close(struct parse *p, size_t start)
{
	const char *t = p->t;
	struct open_tag *o;
	size_t b;
	char name[64];

	if (p->nst == 0)
		return fail(p, "Unexpected end tag at byte offset %zu", start);
	p->i = start + 2;
	b = p->i;
	while (p->i < p->n && !is_space(t[p->i]) && t[p->i] != '>')
		p->i++;
	snprintf(name, sizeof name, "%.*s", (int)(p->i - b), t + b);
	while (p->i < p->n && is_space(t[p->i]))
		p->i++;
	if (p->i >= p->n || t[p->i] != '>')
		return fail(p, "Unclosed end tag at byte offset %zu", start);
	p->i++;
	o = &p->st[p->nst - 1];
	if (*name && strcasecmp(name, o->name) != 0)
		return fail(p, "Unmatched end tag at byte offset %zu, expected "
		    "\"</%s>\", found \"</%s>\"", start, o->name, name);
	if (!strcmp(o->name, "b") || !strcmp(o->name, "strong"))
		entity(p, "bold", NULL, NULL);
	else if (!strcmp(o->name, "i") || !strcmp(o->name, "em"))
		entity(p, "italic", NULL, NULL);
	else if (!strcmp(o->name, "u") || !strcmp(o->name, "ins"))
		entity(p, "underline", NULL, NULL);
	else if (!strcmp(o->name, "s") || !strcmp(o->name, "strike") ||
	    !strcmp(o->name, "del"))
		entity(p, "strikethrough", NULL, NULL);
	else if (!strcmp(o->name, "tg-spoiler") || !strcmp(o->name, "span"))
		entity(p, "spoiler", NULL, NULL);
	else if (!strcmp(o->name, "a"))
		entity(p, "text_link", "url", o->arg);
	else if (!strcmp(o->name, "code"))
		entity(p, "code", NULL, NULL);
	else if (!strcmp(o->name, "pre"))
		entity(p, "pre", "language", o->arg);
	else if (!strcmp(o->name, "blockquote"))
		entity(p, o->arg ? "expandable_blockquote" : "blockquote", NULL,
		    NULL);
	else if (!strcmp(o->name, "tg-emoji"))
		entity(p, "custom_emoji", "custom_emoji_id", o->arg);
	pop(p);
	return 0;
}

/* One attribute value at t[p->i], quoted or a name token; malloc'd. */
static char *
html_value(struct parse *p)
{
	const char *t = p->t;
	struct tg_buf v = { 0 };
	char q;
	size_t b;

	if (t[p->i] == '"' || t[p->i] == '\'') {
		q = t[p->i++];
		while (p->i < p->n && t[p->i] != q)
			tg_buf_add(&v, t + p->i++, 1);
		if (p->i < p->n)
			p->i++;
	} else {
		b = p->i;
		while ((t[p->i] >= 'a' && t[p->i] <= 'z') ||
		    (t[p->i] >= 'A' && t[p->i] <= 'Z') ||
		    (t[p->i] >= '0' && t[p->i] <= '9') || t[p->i] == '.' ||
		    t[p->i] == '-')
			p->i++;
		tg_buf_add(&v, t + b, p->i - b);
		if (p->i < p->n && !is_space(t[p->i]) && t[p->i] != '>') {
			fail(p, "Unexpected end of name token at byte offset "
			    "%zu", b);
			tg_buf_free(&v);
			return NULL;
		}
	}
	tg_buf_add(&v, "", 0);
	return v.s;
}

static int
html_open(struct parse *p, size_t start)
{
	const char *t = p->t;
	char name[64], attr[64], *val, *arg = NULL;
	size_t b, k;

	p->i = start + 1;
	b = p->i;
	while (p->i < p->n && !is_space(t[p->i]) && t[p->i] != '>')
		p->i++;
	if (p->i >= p->n)
		return fail(p, "Unclosed start tag at byte offset %zu", start);
	snprintf(name, sizeof name, "%.*s", (int)(p->i - b), t + b);
	for (k = 0; name[k]; k++)
		if (name[k] >= 'A' && name[k] <= 'Z')
			name[k] = (char)(name[k] + 32);
	for (k = 0; html_tags[k]; k++)
		if (strcmp(html_tags[k], name) == 0)
			break;
	if (!html_tags[k])
		return fail(p, "Unsupported start tag \"%s\" at byte offset "
		    "%zu", name, start);
	while (p->i < p->n && t[p->i] != '>') {
		while (p->i < p->n && is_space(t[p->i]))
			p->i++;
		if (p->i >= p->n || t[p->i] == '>')
			break;
		b = p->i;
		while (p->i < p->n && !is_space(t[p->i]) &&
		    !strchr("=>/\"'", t[p->i]))
			p->i++;
		if (p->i == b) {
			free(arg);
			return fail(p, "Empty attribute name in the tag \"%s\" "
			    "at byte offset %zu", name, start);
		}
		snprintf(attr, sizeof attr, "%.*s", (int)(p->i - b), t + b);
		while (p->i < p->n && is_space(t[p->i]))
			p->i++;
		if (p->i >= p->n || t[p->i] != '=') {
			if (!strcmp(name, "blockquote") &&
			    !strcasecmp(attr, "expandable")) {
				free(arg);
				arg = sl_strdup("1");
			}
			continue;
		}
		p->i++;
		while (p->i < p->n && is_space(t[p->i]))
			p->i++;
		if (p->i >= p->n)
			break;
		if (!(val = html_value(p))) {
			free(arg);
			return -1;
		}
		if ((!strcmp(name, "a") && !strcasecmp(attr, "href")) ||
		    (!strcmp(name, "tg-emoji") &&
		    !strcasecmp(attr, "emoji-id")) ||
		    (!strcmp(name, "span") && !strcasecmp(attr, "class"))) {
			free(arg);
			arg = val;
		} else if (!strcmp(name, "code") &&
		    !strcasecmp(attr, "class") &&
		    !strncmp(val, "language-", 9)) {
			free(arg);
			arg = sl_strdup(val + 9);
			free(val);
		} else {
			free(val);
		}
	}
	if (p->i >= p->n) {
		free(arg);
		return fail(p, "Unclosed start tag at byte offset %zu", start);
	}
	p->i++;
	if (!strcmp(name, "span") && (!arg || strcmp(arg, "tg-spoiler"))) {
		free(arg);
		return fail(p, "Tag \"span\" must have class \"tg-spoiler\" at "
		    "byte offset %zu", start);
	}
	/* <pre><code class="language-x">: the language goes to the pre. */
	if (!strcmp(name, "code") && arg && p->nst &&
	    !strcmp(p->st[p->nst - 1].name, "pre") &&
	    !p->st[p->nst - 1].arg) {
		p->st[p->nst - 1].arg = arg;
		arg = NULL;
	}
	push(p, name, start, arg);
	return 0;
}

static int
parse_html(struct parse *p)
{
	size_t k, start;

	while (p->i < p->n) {
		if (p->t[p->i] == '&' && (k = html_entity(p, p->i)) > 0) {
			p->i += k;
			continue;
		}
		if (p->t[p->i] != '<') {
			emit(p, p->t + p->i++, 1);
			continue;
		}
		start = p->i;
		if (p->t[p->i + 1] == '/') {
			if (html_close(p, start) < 0)
				return -1;
		} else if (html_open(p, start) < 0) {
			return -1;
		}
	}
	if (p->nst)
		return fail(p, "Can't find end tag corresponding to start tag "
		    "\"%s\"", p->st[p->nst - 1].name);
	return 0;
}

/*
 * MarkdownV2.
 */

static const char *
md_type_name(const char *type)
{
	static const char *const names[][2] = {
		{ "italic", "Italic" }, { "bold", "Bold" },
		{ "underline", "Underline" },
		{ "strikethrough", "Strikethrough" }, { "spoiler", "Spoiler" },
		{ "code", "Code" }, { "pre", "Pre" },
		{ "text_link", "TextUrl" },
		{ "custom_emoji", "CustomEmoji" }, { NULL, NULL },
	};
	size_t k;

	for (k = 0; names[k][0]; k++)
		if (strcmp(names[k][0], type) == 0)
			return names[k][1];
	return type;
}

static int
top_is(struct parse *p, const char *type)
{
	return p->nst && strcmp(p->st[p->nst - 1].name, type) == 0;
}

/* Opens type, or closes it when it is the innermost open entity. */
static void
md_toggle(struct parse *p, const char *type, size_t width)
{
	if (top_is(p, type)) {
		entity(p, type, NULL, NULL);
		pop(p);
	} else {
		push(p, type, p->i, NULL);
	}
	p->i += width;
}

/* After "](": the URL up to ')', with \) and \\ escaped. */
static int
md_url(struct parse *p, int v2)
{
	const char *t = p->t;
	struct tg_buf url = { 0 };
	size_t start = p->i;
	const char *type = p->st[p->nst - 1].name;

	p->i += 2;
	while (p->i < p->n && t[p->i] != ')') {
		if (v2 && t[p->i] == '\\' && p->i + 1 < p->n)
			p->i++;
		tg_buf_add(&url, t + p->i++, 1);
	}
	if (p->i >= p->n) {
		tg_buf_free(&url);
		if (!v2)
			return fail(p, "Can't find end of the entity starting "
			    "at byte offset %zu", p->st[p->nst - 1].byte);
		return fail(p, "Can't find end of a URL at byte offset %zu",
		    start + 1);
	}
	p->i++;
	tg_buf_add(&url, "", 0);
	if (strcmp(type, "custom_emoji") == 0) {
		const char *id = strstr(url.s, "id=");

		entity(p, type, "custom_emoji_id", id ? id + 3 : url.s);
	} else {
		entity(p, "text_link", "url", url.s);
	}
	tg_buf_free(&url);
	pop(p);
	return 0;
}

static int
parse_md2(struct parse *p)
{
	const char *t = p->t;
	char c;

	while (p->i < p->n) {
		c = t[p->i];
		if (top_is(p, "code") || top_is(p, "pre")) {
			if (c == '\\' && p->i + 1 < p->n &&
			    (unsigned char)t[p->i + 1] <= 126) {
				emit(p, t + p->i + 1, 1);
				p->i += 2;
			} else if (top_is(p, "pre") &&
			    strncmp(t + p->i, "```", 3) == 0) {
				md_toggle(p, "pre", 3);
			} else if (top_is(p, "code") && c == '`') {
				md_toggle(p, "code", 1);
			} else {
				emit(p, t + p->i++, 1);
			}
			continue;
		}
		if (c == '\\' && p->i + 1 < p->n && t[p->i + 1] > 0 &&
		    (unsigned char)t[p->i + 1] <= 126) {
			emit(p, t + p->i + 1, 1);
			p->i += 2;
			continue;
		}
		if (!strchr("_*[]()~`>#+-=|{}.!", c) || c == '\0') {
			emit(p, t + p->i++, 1);
			continue;
		}
		if (c == '_' && !top_is(p, "italic") && t[p->i + 1] == '_') {
			md_toggle(p, "underline", 2);
		} else if (c == '_') {
			md_toggle(p, "italic", 1);
		} else if (c == '*') {
			md_toggle(p, "bold", 1);
		} else if (c == '~') {
			md_toggle(p, "strikethrough", 1);
		} else if (c == '|' && t[p->i + 1] == '|') {
			md_toggle(p, "spoiler", 2);
		} else if (c == '`' && strncmp(t + p->i, "```", 3) == 0) {
			push(p, "pre", p->i, NULL);
			p->i += 3;
			/* A language up to the end of the first line. */
			{
				size_t b = p->i;

				while (p->i < p->n && t[p->i] != '\n' &&
				    !is_space(t[p->i]))
					p->i++;
				if (p->i < p->n && t[p->i] == '\n' && p->i > b)
					p->st[p->nst - 1].arg =
					    sl_strndup(t + b, p->i - b);
				else
					p->i = b;
			}
		} else if (c == '`') {
			md_toggle(p, "code", 1);
		} else if (c == '[') {
			push(p, "text_link", p->i, NULL);
			p->i++;
		} else if (c == '!' && t[p->i + 1] == '[') {
			push(p, "custom_emoji", p->i, NULL);
			p->i += 2;
		} else if (c == ']' && (top_is(p, "text_link") ||
		    top_is(p, "custom_emoji"))) {
			if (t[p->i + 1] == '(') {
				p->i++;
				if (md_url(p, 1) < 0)
					return -1;
			} else {
				pop(p);
				p->i++;
			}
		} else if (c == '>' && (p->i == 0 || t[p->i - 1] == '\n')) {
			p->i++;
		} else {
			return fail(p, "Character '%c' is reserved and must be "
			    "escaped with the preceding '\\'", c);
		}
	}
	if (p->nst)
		return fail(p, "Can't find end of %s entity at byte offset %zu",
		    md_type_name(p->st[p->nst - 1].name),
		    p->st[p->nst - 1].byte);
	return 0;
}

/*
 * Markdown (legacy): one level, no nesting.
 */
static int
parse_md1(struct parse *p)
{
	const char *t = p->t;
	char c;

	while (p->i < p->n) {
		c = t[p->i];
		if (p->nst) {
			const char *top = p->st[0].name;

			if (!strcmp(top, "pre") && !strncmp(t + p->i, "```", 3))
				md_toggle(p, "pre", 3);
			else if ((!strcmp(top, "code") && c == '`') ||
			    (!strcmp(top, "bold") && c == '*') ||
			    (!strcmp(top, "italic") && c == '_'))
				md_toggle(p, top, 1);
			else if (!strcmp(top, "text_link") && c == ']') {
				if (t[p->i + 1] == '(') {
					p->i++;
					if (md_url(p, 0) < 0)
						return -1;
				} else {
					pop(p);
					p->i++;
				}
			} else
				emit(p, t + p->i++, 1);
			continue;
		}
		if (c == '\\' && p->i + 1 < p->n &&
		    strchr("_*`[", t[p->i + 1]) && t[p->i + 1]) {
			emit(p, t + p->i + 1, 1);
			p->i += 2;
		} else if (c == '`' && !strncmp(t + p->i, "```", 3)) {
			md_toggle(p, "pre", 3);
		} else if (c == '`') {
			md_toggle(p, "code", 1);
		} else if (c == '*') {
			md_toggle(p, "bold", 1);
		} else if (c == '_') {
			md_toggle(p, "italic", 1);
		} else if (c == '[') {
			push(p, "text_link", p->i, NULL);
			p->i++;
		} else {
			emit(p, t + p->i++, 1);
		}
	}
	if (p->nst)
		return fail(p, "Can't find end of the entity starting at byte "
		    "offset %zu", p->st[0].byte);
	return 0;
}

/* Strips white space at both ends of p->out; shifts the entities. */
static void
strip(struct parse *p, char **plain)
{
	size_t b = 0, e = p->out.len, lead, len, n, k, off, elen;
	jv out, x;
	int64_t v;

	while (b < e && is_space(p->out.s[b]))
		b++;
	while (e > b && is_space(p->out.s[e - 1]))
		e--;
	*plain = sl_strndup(p->out.s ? p->out.s + b : "", e - b);
	lead = tg_utf16_len(p->out.s, b);
	len = tg_utf16_len(*plain, e - b);
	out = jv_array();
	n = (size_t)jv_array_length(jv_copy(p->ents));
	for (k = 0; k < n; k++) {
		x = jv_array_get(jv_copy(p->ents), (int)k);
		sl_get_int(x, "offset", &v);
		off = (size_t)v;
		sl_get_int(x, "length", &v);
		elen = (size_t)v;
		off = off > lead ? off - lead : 0;
		if (off + elen > len)
			elen = off < len ? len - off : 0;
		if (elen == 0) {
			jv_free(x);
			continue;
		}
		x = sl_set(x, "offset", jv_number((double)off));
		x = sl_set(x, "length", jv_number((double)elen));
		out = jv_array_append(out, x);
	}
	jv_free(p->ents);
	p->ents = out;
}

int
tg_markup(const char *text, size_t len, const char *mode, char **plain,
    jv *entities, char *err, size_t errsize)
{
	struct parse p;
	int r;

	memset(&p, 0, sizeof p);
	p.t = text;
	p.n = len;
	p.ents = jv_array();
	p.err = err;
	p.errsize = errsize;
	if (!mode || !*mode) {
		emit(&p, text, len);
		r = 0;
	} else if (strcasecmp(mode, "HTML") == 0) {
		r = parse_html(&p);
	} else if (strcasecmp(mode, "MarkdownV2") == 0) {
		r = parse_md2(&p);
	} else if (strcasecmp(mode, "Markdown") == 0) {
		r = parse_md1(&p);
	} else {
		snprintf(err, errsize, "Bad Request: unsupported parse_mode");
		r = -1;
	}
	if (r == 0)
		strip(&p, plain);
	while (p.nst)
		pop(&p);
	free(p.st);
	tg_buf_free(&p.out);
	if (r == 0)
		*entities = p.ents;
	else
		jv_free(p.ents);
	return r;
}
