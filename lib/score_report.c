/*
 * score_report.c: the report of score-conv --report (score.h): a summary,
 * a table per scenario, three charts drawn here as inline SVG (the
 * distribution of totals, the response-time percentiles, the trend of the
 * mean total over earlier runs and this one) and every conversation's
 * transcript with its violations marked.  Markdown and HTML share the
 * structure; the HTML page needs nothing but itself (no script, no
 * network), and every text from the input is escaped.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"
#include "sl.h"
#include "timeutil.h"

struct entry {
	struct sl_conv *c;
	struct sl_score s;
};

struct run {
	char *name;
	double mean;
	size_t n;
};

struct sl_report {
	int html;
	struct entry *e;
	size_t ne, ce;
	struct run *prev;
	size_t nprev;
	FILE *f;
};

struct sl_report *
sl_report_new(int format)
{
	struct sl_report *r = sl_calloc(1, sizeof *r);

	r->html = format == SL_REPORT_HTML;
	return r;
}

void
sl_report_add(struct sl_report *r, struct sl_conv *c, struct sl_score *s)
{
	if (r->ne == r->ce) {
		r->ce = r->ce ? 2 * r->ce : 64;
		r->e = sl_realloc(r->e, r->ce * sizeof *r->e);
	}
	r->e[r->ne].c = c;
	r->e[r->ne].s = *s;
	memset(s, 0, sizeof *s);
	r->ne++;
}

void
sl_report_previous(struct sl_report *r, const char *name, double mean,
    size_t n)
{
	r->prev = sl_realloc(r->prev, (r->nprev + 1) * sizeof *r->prev);
	r->prev[r->nprev].name = sl_strdup(name);
	r->prev[r->nprev].mean = mean;
	r->prev[r->nprev].n = n;
	r->nprev++;
}

void
sl_report_free(struct sl_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ne; i++) {
		sl_conv_free(r->e[i].c);
		sl_score_free(&r->e[i].s);
	}
	for (i = 0; i < r->nprev; i++)
		free(r->prev[i].name);
	free(r->prev);
	free(r->e);
	free(r);
}

/* n bytes of s escaped for HTML, and for Markdown's inline syntax too. */
static void
esc(struct sl_report *r, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '&': fputs("&amp;", r->f); break;
		case '<': fputs("&lt;", r->f); break;
		case '>': fputs("&gt;", r->f); break;
		case '"': fputs("&quot;", r->f); break;
		case '\'': fputs("&#39;", r->f); break;
		case '\n': fputs("<br>", r->f); break;
		case '\\': case '`': case '*': case '_': case '[': case ']':
		case '|': case '#': case '~':
			if (!r->html)
				fputc('\\', r->f);
			fputc(c, r->f);
			break;
		default:
			fputc(c < 0x20 || c == 0x7f ? ' ' : c, r->f);
		}
	}
}

static void
escs(struct sl_report *r, const char *s)
{
	esc(r, s, strlen(s));
}

static void
heading(struct sl_report *r, int level, const char *text)
{
	if (r->html) {
		fprintf(r->f, "<h%d>", level);
		escs(r, text);
		fprintf(r->f, "</h%d>\n", level);
	} else {
		fprintf(r->f, "\n%.*s ", level, "######");
		escs(r, text);
		fputs("\n\n", r->f);
	}
}

static double
mean_total(const struct sl_report *r)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < r->ne; i++)
		sum += r->e[i].s.total;
	return r->ne ? sum / (double)r->ne : 0;
}

/* Table rows: cells separated, a row begun and ended. */
static void
row_start(struct sl_report *r)
{
	fputs(r->html ? "<tr>" : "|", r->f);
}

static void
cell(struct sl_report *r, const char *fmt, ...) SL_PRINTF(2, 3);

static void
cell(struct sl_report *r, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fputs(r->html ? "<td>" : " ", r->f);
	escs(r, buf);
	fputs(r->html ? "</td>" : " |", r->f);
}

static void
row_end(struct sl_report *r)
{
	fputs(r->html ? "</tr>\n" : "\n", r->f);
}

static const char *
scen(const struct entry *e)
{
	return e->c->scenario ? e->c->scenario : "-";
}

static void
scenario_row(struct sl_report *r, const char *name)
{
	double sum[SL_NPARTS] = { 0 }, tot = 0;
	int min = 100;
	size_t i, n = 0, met = 0, expect = 0;
	int p;

	for (i = 0; i < r->ne; i++) {
		const struct sl_score *s = &r->e[i].s;

		if (strcmp(scen(&r->e[i]), name) != 0)
			continue;
		n++;
		tot += s->total;
		min = s->total < min ? s->total : min;
		for (p = 0; p < SL_NPARTS; p++)
			sum[p] += s->part[p];
		expect += s->expected_met >= 0;
		met += s->expected_met == 1;
	}
	row_start(r);
	cell(r, "%s", name);
	cell(r, "%zu", n);
	cell(r, "%.1f", tot / (double)n);
	cell(r, "%d", min);
	for (p = 0; p < SL_NPARTS; p++)
		cell(r, "%.1f", sum[p] / (double)n);
	if (expect)
		cell(r, "%zu/%zu", met, expect);
	else
		cell(r, "-");
	row_end(r);
}

static void
scenario_table(struct sl_report *r)
{
	static const char *const head[] = { "scenario", "conversations",
		"mean total", "min", "qualification", "methodology", "tone",
		"outcome", "timing", "expected outcome" };
	size_t i, j, k;

	heading(r, 2, "Scenarios");
	fputs(r->html ? "<table>\n<tr>" : "|", r->f);
	for (k = 0; k < 10; k++) {
		fputs(r->html ? "<th>" : " ", r->f);
		escs(r, head[k]);
		fputs(r->html ? "</th>" : " |", r->f);
	}
	fputs(r->html ? "</tr>\n" : "\n|", r->f);
	for (k = 0; !r->html && k < 10; k++)
		fputs(k < 2 ? "---|" : "--:|", r->f);
	if (!r->html)
		fputc('\n', r->f);
	for (i = 0; i < r->ne; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(scen(&r->e[j]), scen(&r->e[i])) == 0)
				break;
		if (j == i)
			scenario_row(r, scen(&r->e[i]));
	}
	if (r->html)
		fputs("</table>\n", r->f);
}

/*
 * Charts.  Each is one <svg> of W x H with a title, axes and text labels;
 * fonts and colours inline, so the page looks the same offline.
 */
#define W 520
#define H 220
#define PAD_L 48
#define PAD_B 36
#define PAD_T 28

static void
svg_open(struct sl_report *r, const char *title)
{
	fprintf(r->f, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "font-family=\"sans-serif\" font-size=\"11\"><title>", W, H, W,
	    H);
	escs(r, title);
	fprintf(r->f, "</title><rect width=\"%d\" height=\"%d\" "
	    "fill=\"#fff\"/><text x=\"%d\" y=\"16\" font-size=\"13\" "
	    "font-weight=\"bold\">", W, H, PAD_L);
	escs(r, title);
	fprintf(r->f, "</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "stroke=\"#333\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "stroke=\"#333\"/>", PAD_L, PAD_T, PAD_L, H - PAD_B, PAD_L,
	    H - PAD_B, W - 10, H - PAD_B);
}

static void
svg_close(struct sl_report *r)
{
	fputs("</svg>\n", r->f);
}

/* A bar of value v (of vmax) in slot i of n, labelled below and above. */
static void
bar(struct sl_report *r, size_t i, size_t n, double v, double vmax,
    const char *label, const char *value)
{
	double pw = (double)(W - 10 - PAD_L) / (double)n;
	double ph = H - PAD_B - PAD_T - 12;
	double h = vmax > 0 ? ph * v / vmax : 0;
	double x = PAD_L + pw * (double)i;

	fprintf(r->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
	    "height=\"%.1f\" fill=\"#4a7bd0\"/>", x + pw * 0.1,
	    H - PAD_B - h, pw * 0.8, h);
	fprintf(r->f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
	    x + pw / 2, H - PAD_B + 14);
	escs(r, label);
	fprintf(r->f, "</text><text x=\"%.1f\" y=\"%.1f\" "
	    "text-anchor=\"middle\">", x + pw / 2, H - PAD_B - h - 3);
	escs(r, value);
	fputs("</text>", r->f);
}

static void
chart_histogram(struct sl_report *r)
{
	size_t bin[10] = { 0 }, i, max = 0;
	char label[16], value[24];

	for (i = 0; i < r->ne; i++) {
		int b = r->e[i].s.total / 10;

		bin[b > 9 ? 9 : b < 0 ? 0 : b]++;
	}
	for (i = 0; i < 10; i++)
		max = bin[i] > max ? bin[i] : max;
	svg_open(r, "Score distribution");
	for (i = 0; i < 10; i++) {
		snprintf(label, sizeof label, "%zu-%zu", i * 10,
		    i == 9 ? (size_t)100 : i * 10 + 9);
		snprintf(value, sizeof value, "%zu", bin[i]);
		bar(r, i, 10, (double)bin[i], (double)max, label, value);
	}
	fprintf(r->f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">total"
	    "</text><text x=\"12\" y=\"%d\" transform=\"rotate(-90 12 %d)\" "
	    "text-anchor=\"middle\">conversations</text>", (W + PAD_L) / 2,
	    H - 6, H / 2, H / 2);
	svg_close(r);
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
chart_response(struct sl_report *r)
{
	static const double pct[] = { 50, 95, 99 };
	double *all, v[3], max = 0;
	size_t n = 0, i, k;
	char label[16], value[32];

	for (i = 0; i < r->ne; i++)
		n += r->e[i].s.nresp;
	all = sl_calloc(n + 1, sizeof *all);
	for (i = 0, n = 0; i < r->ne; i++)
		for (k = 0; k < r->e[i].s.nresp; k++)
			all[n++] = r->e[i].s.resp[k];
	qsort(all, n, sizeof *all, cmp_d);
	for (k = 0; k < 3; k++) {
		v[k] = sl_score_pct(all, n, pct[k]);
		max = v[k] > max ? v[k] : max;
	}
	svg_open(r, "Response times");
	for (k = 0; k < 3; k++) {
		snprintf(label, sizeof label, "p%.0f", pct[k]);
		snprintf(value, sizeof value, n ? "%.0f s" : "-", v[k]);
		bar(r, k, 3, v[k], max, label, value);
	}
	fprintf(r->f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%zu "
	    "replies</text>", (W + PAD_L) / 2, H - 6, n);
	svg_close(r);
	free(all);
}

/* The mean total of each earlier run and of this one, as a line. */
static void
chart_trend(struct sl_report *r)
{
	size_t n = r->nprev + 1, i;
	double pw = (double)(W - 10 - PAD_L - 20) / (double)(n > 1 ? n - 1 :
	    1), ph = H - PAD_B - PAD_T - 12, x, y;
	const char *name;
	double m;

	svg_open(r, "Trend of the mean total");
	fprintf(r->f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">100"
	    "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>",
	    PAD_L - 4, H - PAD_B - (int)ph + 4, PAD_L - 4, H - PAD_B);
	fputs("<polyline fill=\"none\" stroke=\"#4a7bd0\" stroke-width=\"2\" "
	    "points=\"", r->f);
	for (i = 0; i < n; i++) {
		m = i < r->nprev ? r->prev[i].mean : mean_total(r);
		fprintf(r->f, "%.1f,%.1f ", PAD_L + 10 + pw * (double)i,
		    H - PAD_B - ph * m / 100);
	}
	fputs("\"/>", r->f);
	for (i = 0; i < n; i++) {
		m = i < r->nprev ? r->prev[i].mean : mean_total(r);
		name = i < r->nprev ? r->prev[i].name : "this run";
		x = PAD_L + 10 + pw * (double)i;
		y = H - PAD_B - ph * m / 100;
		fprintf(r->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
		    "fill=\"#d04a4a\"/><text x=\"%.1f\" y=\"%.1f\" "
		    "text-anchor=\"middle\">%.1f</text><text x=\"%.1f\" "
		    "y=\"%d\" text-anchor=\"middle\">", x, y, x, y - 7, m, x,
		    H - PAD_B + 14);
		escs(r, name);
		fputs("</text>", r->f);
	}
	svg_close(r);
}

static void
charts(struct sl_report *r)
{
	heading(r, 2, "Charts");
	heading(r, 3, "Score distribution");
	chart_histogram(r);
	heading(r, 3, "Response times");
	chart_response(r);
	heading(r, 3, "Trend");
	chart_trend(r);
}

/* The text of message i with its tone violations in <mark>. */
static void
marked(struct sl_report *r, const struct entry *e, size_t i)
{
	const struct sl_conv_msg *m = &e->c->m[i];
	size_t pos = 0, k, end;

	for (k = 0; k < e->s.nv; k++) {
		const struct sl_violation *v = &e->s.v[k];

		if (v->msg != (long)i || v->part != SL_PART_TONE ||
		    v->len == 0 || v->at < pos || v->at >= m->len)
			continue;
		end = v->at + v->len > m->len ? m->len : v->at + v->len;
		esc(r, m->text + pos, v->at - pos);
		fputs("<mark>", r->f);
		esc(r, m->text + v->at, end - v->at);
		fputs("</mark>", r->f);
		pos = end;
	}
	esc(r, m->text + pos, m->len - pos);
}

/* The violations of message msg (-1: of the whole conversation). */
static void
violations(struct sl_report *r, const struct entry *e, long msg)
{
	size_t k, n = 0;

	for (k = 0; k < e->s.nv; k++) {
		const struct sl_violation *v = &e->s.v[k];

		if (v->msg != msg)
			continue;
		if (n++ == 0)
			fputs(r->html ? "<ul class=\"v\">" : "", r->f);
		fputs(r->html ? "<li>" : msg >= 0 ? "    - " : "- ", r->f);
		fputs(r->html ? "<b>" : "**", r->f);
		escs(r, v->rule);
		fputs(r->html ? "</b> (" : "** (", r->f);
		escs(r, sl_score_part_name(v->part));
		fputs(v->warning ? ", warning): " : "): ", r->f);
		escs(r, v->detail);
		fputs(r->html ? "</li>" : "\n", r->f);
	}
	if (n && r->html)
		fputs("</ul>", r->f);
}

static void
transcript(struct sl_report *r, const struct entry *e)
{
	static const char *const who[] = { "prospect", "agent", "human" };
	char title[256], tb[SL_TIME_BUFSZ];
	const char *t;
	size_t i;
	int p;

	snprintf(title, sizeof title, "%s · %s · %d", e->c->id, scen(e),
	    e->s.total);
	heading(r, 3, title);
	fputs(r->html ? "<p class=\"parts\">" : "", r->f);
	for (p = 0; p < SL_NPARTS; p++)
		fprintf(r->f, "%s%s %.0f", p ? ", " : "",
		    sl_score_part_name(p), e->s.part[p]);
	if (jv_get_kind(e->c->judge) == JV_KIND_OBJECT) {
		jv s = jv_object_get(jv_copy(e->c->judge), jv_string("score"));

		if (jv_get_kind(s) == JV_KIND_NUMBER)
			fprintf(r->f, ", judge %.0f", jv_number_value(s));
		jv_free(s);
	}
	fputs(r->html ? "</p>\n<ol class=\"t\">\n" : "\n\n", r->f);
	for (i = 0; i < e->c->nm; i++) {
		const struct sl_conv_msg *m = &e->c->m[i];

		t = m->at >= 0 ? sl_time_fmt(m->at, tb) : "";
		fprintf(r->f, r->html ? "<li class=\"%s\"><time>%s</time> "
		    "<b>%s</b>: " : "1. `%s%s` **%s**: ", r->html ? who[m->by] :
		    "", t, who[m->by]);
		marked(r, e, i);
		fputs(r->html ? "" : "\n", r->f);
		violations(r, e, (long)i);
		fputs(r->html ? "</li>\n" : "", r->f);
	}
	fputs(r->html ? "</ol>\n" : "\n", r->f);
	violations(r, e, -1);
}

static const char css[] =
    "body{font-family:sans-serif;max-width:60em;margin:1em auto;"
    "padding:0 1em;color:#222}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
    "td:first-child,th:first-child{text-align:left}"
    "mark{background:#fbb}ol.t{list-style:none;padding:0}"
    "ol.t li{margin:4px 0;padding:4px;border-radius:4px}"
    "li.agent{background:#eef4ff}li.human{background:#efe}"
    "li.prospect{background:#f6f6f6}time{color:#777;font-size:smaller}"
    "ul.v{color:#a00;margin:2px 0}svg{display:block;margin:8px 0}";

static void
summary(struct sl_report *r, unsigned long rejected)
{
	size_t i, pass = 0;
	char line[256];

	for (i = 0; i < r->ne; i++)
		pass += r->e[i].s.total >= 70;
	snprintf(line, sizeof line, "%zu conversations, mean total %.1f, "
	    "%zu with a total of 70 or more, %lu input lines rejected.",
	    r->ne, mean_total(r), pass, rejected);
	fputs(r->html ? "<p>" : "", r->f);
	escs(r, line);
	fputs(r->html ? "</p>\n" : "\n", r->f);
}

int
sl_report_write(struct sl_report *r, FILE *f, unsigned long rejected)
{
	size_t i;

	r->f = f;
	if (r->html)
		fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
		    "<meta charset=\"utf-8\"><title>Conversation scores"
		    "</title><style>%s</style></head><body>\n", css);
	if (r->html)
		heading(r, 1, "Conversation scores");
	else
		fputs("# Conversation scores\n\n", f);
	summary(r, rejected);
	scenario_table(r);
	charts(r);
	heading(r, 2, "Conversations");
	for (i = 0; i < r->ne; i++)
		transcript(r, &r->e[i]);
	if (r->html)
		fputs("</body></html>\n", f);
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
