/*
 * score_cues.c: cue words on normalised text, for the scorer
 * (score_impl.h).
 */
#include <stdlib.h>
#include <string.h>

#include "score_impl.h"
#include "sl.h"

void
sc_norm(const char *s, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	char *o = out;

	while (i < len) {
		unsigned char c = p[i];

		if (c < 0x80) {
			*o++ = c < 0x20 || c == 0x7f ? ' ' :
			    (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
			i++;
			continue;
		}
		if (i + 1 < len && (c == 0xd0 || c == 0xd1)) {
			unsigned char d = p[i + 1];

			if (c == 0xd0 && d >= 0x90 && d <= 0x9f)
				c = 0xd0, d = (unsigned char)(d + 0x20);
			else if (c == 0xd0 && d >= 0xa0 && d <= 0xaf)
				c = 0xd1, d = (unsigned char)(d - 0x20);
			else if ((c == 0xd0 && d == 0x81) ||
			    (c == 0xd1 && d == 0x91))
				c = 0xd0, d = 0xb5;
			*o++ = (char)c;
			*o++ = (char)d;
			i += 2;
			continue;
		}
		*o++ = (char)c;
		i++;
	}
	*o = '\0';
}

/* Is the character that ends just before p (not before start) a letter? */
static int
letter_before(const char *start, const char *p)
{
	const unsigned char *q = (const unsigned char *)p;

	if (p == start)
		return 0;
	if (q[-1] < 0x80)
		return (q[-1] >= 'a' && q[-1] <= 'z') ||
		    (q[-1] >= '0' && q[-1] <= '9');
	while ((const char *)q > start && (q[-1] & 0xc0) == 0x80)
		q--;
	if ((const char *)q == start)
		return 0;
	return q[-1] == 0xd0 || q[-1] == 0xd1;
}

static int
letter_at(const char *p)
{
	const unsigned char *q = (const unsigned char *)p;

	if (*q < 0x80)
		return (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9');
	return *q == 0xd0 || *q == 0xd1;
}

static unsigned
bigram(const char *p)
{
	return ((unsigned)(unsigned char)p[0] * 31u +
	    (unsigned)(unsigned char)p[1]) & 4095u;
}

void
sc_text_init(struct sc_text *t, const char *norm)
{
	const char *p;

	t->s = norm;
	memset(t->starts, 0, sizeof t->starts);
	for (p = norm; *p; p++)
		if (p[1] && letter_at(p) && !letter_before(norm, p)) {
			unsigned b = bigram(p);

			t->starts[b >> 3] |= (unsigned char)(1u << (b & 7));
		}
}

int
sc_cue_in(const struct sc_text *t, const char *cue)
{
	size_t n = strlen(cue);
	int prefix = n > 0 && cue[n - 1] == '*';
	const char *p = t->s;
	char buf[256];
	unsigned b;

	if (prefix)
		n--;
	if (n == 0 || n >= sizeof buf)
		return 0;
	if (n >= 2 && letter_at(cue)) {
		b = bigram(cue);
		if (!(t->starts[b >> 3] & (1u << (b & 7))))
			return 0;
	}
	memcpy(buf, cue, n);
	buf[n] = '\0';
	while ((p = strstr(p, buf)) != NULL) {
		if (!letter_before(t->s, p) && (prefix || !letter_at(p + n)))
			return 1;
		p++;
	}
	return 0;
}

void
sc_cues_add(struct sc_cues *c, const char *cue)
{
	size_t len = strlen(cue);
	char *s = sl_malloc(len + 1);

	sc_norm(cue, len, s);
	c->cue = sl_realloc(c->cue, (c->n + 1) * sizeof *c->cue);
	c->cue[c->n++] = s;
}

void
sc_cues_free(struct sc_cues *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->cue[i]);
	free(c->cue);
	c->cue = NULL;
	c->n = 0;
}

int
sc_cues_match(const struct sc_cues *c, const struct sc_text *t)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (sc_cue_in(t, c->cue[i]))
			return 1;
	return 0;
}
