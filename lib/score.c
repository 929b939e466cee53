/*
 * score.c: one conversation scored (score.h).
 *
 * The messages are walked once in time order.  The walk keeps the
 * prospect's bursts (inbound messages until our next reply), the BANT
 * questions asked, the cues of the prospect's intents, and lints every
 * message our agent wrote with the tone linter; each rule broken becomes a
 * violation.  A part is then 100 minus the penalties of its violations
 * (the table below), the tone part the share of clean messages, and the
 * total their weighted mean.  score-conv(1) describes every rule.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "score.h"
#include "score_impl.h"
#include "sl.h"

const int sl_score_weights[SL_NPARTS] = { 25, 15, 25, 25, 10 };

static const char *const part_names[SL_NPARTS] = {
	"qualification", "methodology", "tone", "outcome", "timing",
};

static const char *const slot_names[SL_NSLOTS] = {
	"need", "budget", "authority", "timeline",
};

/* What asks about a slot, in a question of ours (normalised). */
static const char *const ask_cues[SL_NSLOTS][20] = {
	{ "задач*", "мешает", "проблем*", "какую crm", "какой crm",
	  "в какой-то crm", "работаете в", "ведете клиентов", "что нужно",
	  "what would you like to solve", "what gets in the way",
	  "problem*", "challenge*", "which crm", "what do you use",
	  "what are you looking", "need*", NULL },
	{ "бюджет*", "диапазон", "сколько готовы", "во сколько", "budget*",
	  "price range", "how much are you", "spend", NULL },
	{ "решени*", "принимаете", "принимает", "согласовать", "кто еще",
	  "коллег*", "decision*", "decide*", "who else", "approve*",
	  "colleague*", "sign off", NULL },
	{ "к какому сроку", "срок*", "запуст*", "успеть",
	  "когда вам хотелось бы", "когда планируете", "by what date",
	  "deadline", "timeline", "timeframe", "up and running", "go live",
	  "launch*", "when would you like", "when do you plan",
	  "when are you planning", NULL },
};

static const char *const meeting_cues[] = { "встреч*", "созвон*",
	"meeting*", "call", "demo", NULL };

/* The penalty of each rule, by part; tone rules count per message. */
static const struct {
	const char *rule;
	int part, penalty;
} penalties[] = {
	{ "qualification_order", SL_PART_QUALIFICATION, 15 },
	{ "stacked_questions", SL_PART_QUALIFICATION, 10 },
	{ "repeated_question", SL_PART_METHODOLOGY, 20 },
	{ "pushed_meeting", SL_PART_METHODOLOGY, 25 },
	{ "skipped_qualification", SL_PART_METHODOLOGY, 25 },
	{ "objection_ignored", SL_PART_METHODOLOGY, 20 },
	{ "message_after_takeover", SL_PART_OUTCOME, 40 },
	{ "followup_after_client_wrote", SL_PART_OUTCOME, 30 },
	{ "booking_without_email", SL_PART_OUTCOME, 30 },
	{ "booking_without_link", SL_PART_OUTCOME, 20 },
	{ "followup_missing", SL_PART_OUTCOME, 30 },
	{ "escalation_missing", SL_PART_OUTCOME, 40 },
	{ "outcome_mismatch", SL_PART_OUTCOME, 30 },
	{ "no_outcome", SL_PART_OUTCOME, 40 },
	{ "slow_reply", SL_PART_TIMING, 10 },
	{ "no_reply", SL_PART_TIMING, 15 },
	{ "reply_flood", SL_PART_TIMING, 10 },
	{ "late_followup", SL_PART_TIMING, 10 },
	{ "early_followup", SL_PART_TIMING, 10 },
};

const char *
sl_score_part_name(int part)
{
	return part >= 0 && part < SL_NPARTS ? part_names[part] : NULL;
}

/* The walk's state. */
struct walk {
	const struct sl_score_cfg *cfg;
	const struct sc_cfg_cues *cu;
	const struct sl_conv *c;
	struct sl_score *s;
	char *nb;			/* normalised text of the message */
	size_t nbcap;
	int burst;			/* an unanswered burst is open */
	int64_t burst_last;		/* its last message's time */
	long burst_replies;
	int flooded;
	int pending_q;			/* slot asked last, -1 */
	long pending_obj;		/* objection not answered yet, -1 */
	int meeting_asked, stopped, escalate_cue, followup_cue, pushed;
	int heard[SL_NSLOTS];		/* the prospect answered the question */
	int ask_count[SL_NSLOTS];
	long proposals;
	int64_t email_at;		/* the prospect wrote an e-mail */
	unsigned long qhash[64];
	size_t nq;
	const char *lang;		/* of the prospect's last letters */
};

static struct sl_violation *
violation(struct sl_score *s, const char *rule, int part, long msg)
{
	struct sl_violation *v;

	if (s->nv == s->cv) {
		s->cv = s->cv ? s->cv * 2 : 8;
		s->v = sl_realloc(s->v, s->cv * sizeof *s->v);
	}
	v = &s->v[s->nv++];
	memset(v, 0, sizeof *v);
	v->rule = rule;
	v->part = part;
	v->msg = msg;
	return v;
}

static void
viol(struct walk *w, const char *rule, long msg, const char *fmt, ...)
    SL_PRINTF(4, 5);

static void
viol(struct walk *w, const char *rule, long msg, const char *fmt, ...)
{
	struct sl_violation *v;
	va_list ap;
	size_t i;
	int part = SL_PART_OUTCOME;

	for (i = 0; i < sizeof penalties / sizeof *penalties; i++)
		if (strcmp(penalties[i].rule, rule) == 0)
			part = penalties[i].part;
	v = violation(w->s, rule, part, msg);
	if (msg >= 0)
		v->len = w->c->m[msg].len;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof v->detail, fmt, ap);
	va_end(ap);
}

/* The message's text normalised into w->nb. */
static const char *
norm(struct walk *w, const struct sl_conv_msg *m)
{
	if (m->len + 1 > w->nbcap) {
		w->nbcap = m->len + 1 > 2 * w->nbcap ? m->len + 1 :
		    2 * w->nbcap;
		w->nb = sl_realloc(w->nb, w->nbcap);
	}
	sc_norm(m->text, m->len, w->nb);
	return w->nb;
}

static int
cue_list(const char *const *cues, const struct sc_text *t)
{
	for (; *cues; cues++)
		if (sc_cue_in(t, *cues))
			return 1;
	return 0;
}

/* Is a human in charge of the chat at t? */
static int
human_at(const struct sl_conv *c, int64_t t)
{
	int64_t from = -1;
	size_t i;

	if (t < 0)
		return 0;
	for (i = 0; i < c->ne; i++) {
		const struct sl_conv_event *e = &c->e[i];

		if (e->kind == SL_EV_TAKEOVER && e->at >= 0 && e->at < t &&
		    e->at > from)
			from = e->at;
	}
	if (from < 0)
		return 0;
	for (i = 0; i < c->ne; i++)
		if (c->e[i].kind == SL_EV_HANDBACK && c->e[i].at > from &&
		    c->e[i].at < t)
			return 0;
	return 1;
}

static int64_t
first_event(const struct sl_conv *c, int kind)
{
	int64_t t = -1;
	size_t i;

	for (i = 0; i < c->ne; i++)
		if (c->e[i].kind == kind && c->e[i].at >= 0 &&
		    (t < 0 || c->e[i].at < t))
			t = c->e[i].at;
	return t;
}

static int
has_event(const struct sl_conv *c, int kind)
{
	size_t i;

	for (i = 0; i < c->ne; i++)
		if (c->e[i].kind == kind)
			return 1;
	return 0;
}

/* Does text hold an e-mail address (x@y.z)? */
static int
has_email(const char *t)
{
	const char *at = t, *p;

	while ((at = strchr(at, '@')) != NULL) {
		if (at > t && at[-1] != ' ' && at[1] && at[1] != ' ' &&
		    (p = strchr(at + 1, '.')) && p[1] && p[1] != ' ' &&
		    (size_t)(p - at) < 64)
			return 1;
		at++;
	}
	return 0;
}

/* The tone violations of our message i. */
static void
lint(struct walk *w, size_t i)
{
	const struct sl_conv_msg *m = &w->c->m[i];
	struct sl_tone_hit hit[SL_TONE_HITS];
	size_t n, k, nh;
	long errors = 0, warnings = 0;
	jv det = jv_null();

	n = sl_tone_scan(m->text, m->len, w->lang, &w->cfg->tone, hit,
	    SL_TONE_HITS);
	nh = n < SL_TONE_HITS ? n : SL_TONE_HITS;
	if (n > 0)
		det = sl_tone_check(m->text, m->len, w->lang, &w->cfg->tone);
	for (k = 0; k < nh; k++) {
		struct sl_violation *v = violation(w->s,
		    sl_tone_rule_name(hit[k].rule), SL_PART_TONE, (long)i);
		jv o = jv_array_get(jv_copy(det), (int)k);
		const char *d;

		v->warning = hit[k].severity == SL_TONE_WARNING;
		v->at = hit[k].at;
		v->len = hit[k].len;
		if (jv_get_kind(o) == JV_KIND_OBJECT &&
		    sl_get_str(o, "detail", &d) == 1)
			snprintf(v->detail, sizeof v->detail, "%s", d);
		jv_free(o);
		if (v->warning)
			warnings++;
		else
			errors++;
	}
	jv_free(det);
	w->s->tone_errors += errors;
	w->s->tone_warnings += warnings;
	w->s->agent_msgs++;
	/* a message with an error counts as broken, a warning as a quarter */
	w->s->part[SL_PART_TONE] += fmin(1.0, (double)errors +
	    0.25 * (double)warnings);
}

static unsigned long
hash(const char *s, size_t n)
{
	unsigned long h = 1469598103934665603UL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211UL;
	return h;
}

/* The BANT questions of our message i (normalised text t). */
static void
questions(struct walk *w, size_t i, const char *t)
{
	const struct sl_conv *c = w->c;
	const char *start = t, *p;
	char q[1024];
	struct sc_text qt;
	int slots[SL_NSLOTS] = { 0 }, nslots = 0, s, first = -1;
	size_t n, k;

	for (p = t; *p; p++) {
		if (*p == '.' || *p == '!')
			start = p + 1;
		if (*p != '?')
			continue;
		n = (size_t)(p - start) < sizeof q - 1 ?
		    (size_t)(p - start) : sizeof q - 1;
		memcpy(q, start, n);
		q[n] = '\0';
		start = p + 1;
		for (k = 0; k < w->nq; k++)
			if (w->qhash[k] == hash(q, n))
				break;
		if (k < w->nq && n > 8)
			viol(w, "repeated_question", (long)i,
			    "the same question again");
		else if (w->nq < 64)
			w->qhash[w->nq++] = hash(q, n);
		sc_text_init(&qt, q);
		for (s = 0; s < SL_NSLOTS; s++)
			if (!slots[s] && cue_list(ask_cues[s], &qt)) {
				slots[s] = 1;
				nslots++;
				if (first < 0)
					first = s;
			}
	}
	if (nslots > 1)
		viol(w, "stacked_questions", (long)i, "%d BANT questions in "
		    "one message: one at a time", nslots);
	for (s = 0; s < SL_NSLOTS; s++) {
		if (!slots[s])
			continue;
		if (s != SL_SLOT_NEED && w->ask_count[SL_SLOT_NEED] == 0 &&
		    !slots[SL_SLOT_NEED] &&
		    !(c->has_state && c->learned[SL_SLOT_NEED]) &&
		    !w->s->asked[SL_SLOT_BUDGET] &&
		    !w->s->asked[SL_SLOT_AUTHORITY] &&
		    !w->s->asked[SL_SLOT_TIMELINE])
			viol(w, "qualification_order", (long)i, "asked "
			    "about the %s before the need", slot_names[s]);
		w->s->asked[s] = 1;
		if (++w->ask_count[s] == 3)
			viol(w, "repeated_question", (long)i, "the %s asked "
			    "a third time", slot_names[s]);
	}
	w->pending_q = first;
}

/* Our message i, a reply (not a follow-up), normalised text t. */
static void
reply(struct walk *w, size_t i, const char *t)
{
	const struct sl_conv *c = w->c;
	const struct sl_conv_msg *m = &c->m[i];
	struct sc_text tt;

	if (w->burst) {
		if (m->at >= 0 && w->burst_last >= 0) {
			double d = (double)(m->at - w->burst_last);

			w->s->resp[w->s->nresp++] = d < 0 ? 0 : d;
			if (d > (double)w->cfg->slow_s)
				viol(w, "slow_reply", (long)i, "answered "
				    "after %.0f s, at most %ld", d,
				    w->cfg->slow_s);
		}
		w->burst = 0;
		w->burst_replies = 0;
		w->flooded = 0;
	}
	w->s->replies++;
	if (++w->burst_replies > 2 && !w->flooded) {
		w->flooded = 1;
		viol(w, "reply_flood", (long)i, "%ld messages in a row to "
		    "one burst", w->burst_replies);
	}
	w->pending_obj = -1;
	questions(w, i, t);
	sc_text_init(&tt, t);
	if (strchr(t, '?') && cue_list(meeting_cues, &tt) &&
	    !has_event(c, SL_EV_BOOKING)) {
		w->proposals++;
		if (!w->pushed && !w->meeting_asked &&
		    w->ask_count[SL_SLOT_NEED] == 0 &&
		    !(c->has_state && c->learned[SL_SLOT_NEED])) {
			w->pushed = 1;
			viol(w, "pushed_meeting", (long)i, "a meeting "
			    "proposed before the need was asked");
		} else if (!w->pushed && !w->meeting_asked &&
		    w->proposals > 3) {
			w->pushed = 1;
			viol(w, "pushed_meeting", (long)i, "a meeting "
			    "proposed %ld times", w->proposals);
		}
	}
}

/* The scheduling event of our follow-up message m: by id, else the last. */
static const struct sl_conv_event *
followup_event(const struct sl_conv *c, const struct sl_conv_msg *m)
{
	const struct sl_conv_event *best = NULL;
	const char *id = m->key && strncmp(m->key, "followup:", 9) == 0 ?
	    m->key + 9 : NULL;
	size_t i;

	for (i = 0; i < c->ne; i++) {
		const struct sl_conv_event *e = &c->e[i];
		int64_t t = e->scheduled >= 0 ? e->scheduled : e->at;

		if (e->kind != SL_EV_FOLLOWUP_SCHEDULED &&
		    e->kind != SL_EV_FOLLOWUP_SENT)
			continue;
		if (id && e->id && strcmp(id, e->id) == 0)
			return e;
		if (e->kind == SL_EV_FOLLOWUP_SCHEDULED && t >= 0 &&
		    (m->at < 0 || t <= m->at) && (best == NULL ||
		    t >= (best->scheduled >= 0 ? best->scheduled : best->at)))
			best = e;
	}
	return best;
}

/* Our follow-up (not a reminder) i: after the client wrote?  On time? */
static void
followup(struct walk *w, size_t i)
{
	const struct sl_conv *c = w->c;
	const struct sl_conv_msg *m = &c->m[i];
	const struct sl_conv_event *e = followup_event(c, m);
	int64_t sched = e ? (e->scheduled >= 0 ? e->scheduled : e->at) : -1;
	int wrote = i > 0 && !c->m[i - 1].out;
	size_t k;

	w->s->followups++;
	for (k = 0; !wrote && sched >= 0 && k < i; k++)
		if (!c->m[k].out && c->m[k].at > sched)
			wrote = 1;
	if (wrote)
		viol(w, "followup_after_client_wrote", (long)i, "a follow-up "
		    "sent after the prospect wrote");
	if (e && e->due >= 0 && m->at >= 0) {
		if (m->at - e->due > w->cfg->late_s) {
			w->s->late_followups++;
			viol(w, "late_followup", (long)i, "sent %lld s after "
			    "it was due", (long long)(m->at - e->due));
		} else if (e->due - m->at > w->cfg->late_s) {
			w->s->late_followups++;
			viol(w, "early_followup", (long)i, "sent %lld s before "
			    "it was due", (long long)(e->due - m->at));
		}
	}
}

/* The prospect's message i, normalised text t. */
static void
inbound(struct walk *w, size_t i, const char *t)
{
	const struct sl_conv_msg *m = &w->c->m[i];
	const struct sc_cfg_cues *cu = w->cu;
	const char *lang = sl_tone_lang(m->text, m->len);
	struct sc_text tt;
	int quiet = human_at(w->c, m->at) || w->stopped ||
	    (first_event(w->c, SL_EV_ESCALATION) >= 0 &&
	    m->at >= first_event(w->c, SL_EV_ESCALATION));

	if (lang)
		w->lang = lang;
	if (!w->burst && !quiet) {
		w->burst = 1;
		w->s->bursts++;
	}
	if (w->burst)
		w->burst_last = m->at;
	if (w->pending_q >= 0)
		w->heard[w->pending_q] = 1;
	w->pending_q = -1;
	if (w->email_at < 0 && has_email(m->text))
		w->email_at = m->at >= 0 ? m->at : 0;
	if (cu == NULL)
		return;
	sc_text_init(&tt, t);
	if (sc_cues_match(&cu->stop, &tt))
		w->stopped = 1;
	if (sc_cues_match(&cu->meeting, &tt))
		w->meeting_asked = 1;
	if (sc_cues_match(&cu->followup, &tt))
		w->followup_cue = 1;
	if (sc_cues_match(&cu->escalate, &tt) &&
	    !sc_cues_match(&cu->is_bot, &tt))
		w->escalate_cue = 1;
	if (w->pending_obj < 0 && sc_cues_match(&cu->objection, &tt))
		w->pending_obj = (long)i;
}

static void
walk_messages(struct walk *w)
{
	const struct sl_conv *c = w->c;
	size_t i;

	for (i = 0; i < c->nm; i++) {
		const struct sl_conv_msg *m = &c->m[i];
		const char *t = norm(w, m);

		if (!m->out) {
			inbound(w, i, t);
			continue;
		}
		if (m->by == SL_BY_HUMAN) {
			w->burst = 0;	/* the rep answered */
			continue;
		}
		if (w->lang == NULL)
			w->lang = c->lang;
		lint(w, i);
		if (human_at(c, m->at))
			viol(w, "message_after_takeover", (long)i, "sent while "
			    "a human had the chat");
		if (m->followup == 1)
			followup(w, i);
		else if (m->followup == 0)
			reply(w, i, t);
	}
}

/* The booking's time: its own, our first message with its link, the end. */
static int64_t
booking_time(const struct sl_conv *c, const struct sl_conv_event *b)
{
	size_t i;

	if (b->at >= 0)
		return b->at;
	for (i = 0; b->join_url && i < c->nm; i++)
		if (c->m[i].out && strstr(c->m[i].text, b->join_url))
			return c->m[i].at;
	return c->nm ? c->m[c->nm - 1].at : -1;
}

static void
booking(struct walk *w)
{
	const struct sl_conv *c = w->c;
	const struct sl_conv_event *b = NULL;
	size_t i;
	int64_t t;

	for (i = 0; i < c->ne && b == NULL; i++)
		if (c->e[i].kind == SL_EV_BOOKING)
			b = &c->e[i];
	if (b == NULL)
		return;
	w->s->booked = 1;
	t = booking_time(c, b);
	if (b->join_url == NULL)
		viol(w, "booking_without_link", -1, "the booking has no "
		    "join_url");
	if (b->email == NULL)
		viol(w, "booking_without_email", -1, "booked with no e-mail");
	else if (w->email_at < 0 || (t >= 0 && w->email_at > t))
		viol(w, "booking_without_email", -1, "booked before the "
		    "prospect gave an e-mail");
	if (!w->pushed && !w->meeting_asked &&
	    w->ask_count[SL_SLOT_NEED] == 0 &&
	    !(c->has_state && c->learned[SL_SLOT_NEED]))
		viol(w, "skipped_qualification", -1, "booked without asking "
		    "about the need");
}

static const char *const outcome_keys[] = { "booked", "email", "followup",
	"escalated" };

static void
expected(struct walk *w)
{
	struct sl_score *s = w->s;
	int got[4] = { s->booked, s->email, s->followup, s->escalated }, i, b;

	s->expected_met = 1;
	for (i = 0; i < 4; i++) {
		if (sl_get_bool(w->c->expected, outcome_keys[i], &b) != 1 ||
		    b == got[i])
			continue;
		s->expected_met = 0;
		if (i == 2 && b)
			viol(w, "followup_missing", -1, "no follow-up was "
			    "scheduled");
		else if (i == 3 && b)
			viol(w, "escalation_missing", -1, "not handed to a "
			    "human");
		else
			viol(w, "outcome_mismatch", -1, "%s: expected %s",
			    outcome_keys[i], b ? "true" : "false");
	}
}

static void
outcome(struct walk *w)
{
	const struct sl_conv *c = w->c;
	struct sl_score *s = w->s;
	size_t i;

	booking(w);
	for (i = 0; i < c->ne; i++)
		if (c->e[i].kind == SL_EV_BOOKING && c->e[i].email)
			s->email = 1;
	s->email |= c->email != NULL || w->email_at >= 0;
	s->followup = has_event(c, SL_EV_FOLLOWUP_SCHEDULED) ||
	    has_event(c, SL_EV_FOLLOWUP_SENT) || s->followups > 0;
	s->escalated = has_event(c, SL_EV_ESCALATION);
	s->expected_met = -1;
	if (jv_get_kind(c->expected) == JV_KIND_OBJECT) {
		expected(w);
		return;
	}
	if (w->followup_cue && !s->followup && !s->booked && !w->stopped)
		viol(w, "followup_missing", -1, "the prospect asked to be "
		    "written to later; no follow-up was scheduled");
	if (w->escalate_cue && !s->escalated && !has_event(c, SL_EV_TAKEOVER))
		viol(w, "escalation_missing", -1, "the prospect's words "
		    "needed a human; not escalated");
	if (!s->booked && !s->followup && !s->escalated && !w->stopped &&
	    !w->followup_cue && !w->escalate_cue &&
	    !has_event(c, SL_EV_TAKEOVER))
		viol(w, "no_outcome", -1, "no meeting, follow-up or "
		    "hand-over");
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
sl_score_pct(const double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)ceil(p / 100.0 * (double)n);
	return v[k ? k - 1 : 0];
}

/* The parts from the violations and the counts; the total. */
static void
parts(struct walk *w)
{
	struct sl_score *s = w->s;
	double q = 0, total = 0;
	size_t i, k;
	int slot;

	for (slot = 0; slot < SL_NSLOTS; slot++) {
		s->learned[slot] = w->c->has_state ? w->c->learned[slot] :
		    w->heard[slot];
		q += (slot == SL_SLOT_NEED ? 20 : 10) * (s->asked[slot] +
		    s->learned[slot]);
	}
	s->part[SL_PART_TONE] = s->agent_msgs ? 100.0 * (1.0 -
	    s->part[SL_PART_TONE] / (double)s->agent_msgs) : 100.0;
	s->part[SL_PART_QUALIFICATION] = q;
	s->part[SL_PART_METHODOLOGY] = 100;
	s->part[SL_PART_OUTCOME] = 100;
	s->part[SL_PART_TIMING] = 100;
	for (i = 0; i < s->nv; i++)
		for (k = 0; k < sizeof penalties / sizeof *penalties; k++)
			if (strcmp(penalties[k].rule, s->v[i].rule) == 0)
				s->part[penalties[k].part] -=
				    penalties[k].penalty;
	for (i = 0; i < SL_NPARTS; i++) {
		s->part[i] = s->part[i] < 0 ? 0 : s->part[i] > 100 ? 100 :
		    s->part[i];
		s->part[i] = round(s->part[i]);
		total += s->part[i] * sl_score_weights[i];
	}
	s->total = (int)round(total / 100.0);
}

void
sl_score_conv(const struct sl_score_cfg *cfg, const struct sl_conv *c,
    struct sl_score *s)
{
	struct walk w;

	memset(s, 0, sizeof *s);
	memset(&w, 0, sizeof w);
	w.cfg = cfg;
	w.cu = cfg->cues;
	w.c = c;
	w.s = s;
	w.pending_q = -1;
	w.pending_obj = -1;
	w.email_at = -1;
	w.burst_last = -1;
	s->resp = sl_calloc(c->nm + 1, sizeof *s->resp);
	walk_messages(&w);
	if (w.burst && !human_at(c, c->nm ? c->m[c->nm - 1].at + 1 : -1))
		viol(&w, "no_reply", -1, "the prospect's last messages got "
		    "no answer");
	if (w.pending_obj >= 0 && !has_event(c, SL_EV_ESCALATION))
		viol(&w, "objection_ignored", w.pending_obj, "the objection "
		    "got no answer");
	outcome(&w);
	qsort(s->resp, s->nresp, sizeof *s->resp, cmp_double);
	parts(&w);
	free(w.nb);
}

void
sl_score_free(struct sl_score *s)
{
	free(s->v);
	free(s->resp);
	memset(s, 0, sizeof *s);
}

static jv
slot_list(const int *v)
{
	jv a = jv_array();
	int i;

	for (i = 0; i < SL_NSLOTS; i++)
		if (v[i])
			a = jv_array_append(a, jv_string(slot_names[i]));
	return a;
}

static jv
violations_jv(const struct sl_score *s)
{
	jv a = jv_array(), o;
	size_t i;

	for (i = 0; i < s->nv; i++) {
		const struct sl_violation *v = &s->v[i];

		o = jv_object();
		o = jv_object_set(o, jv_string("rule"), jv_string(v->rule));
		o = jv_object_set(o, jv_string("part"),
		    jv_string(part_names[v->part]));
		o = jv_object_set(o, jv_string("severity"),
		    jv_string(v->warning ? "warning" : "error"));
		if (v->msg >= 0) {
			o = jv_object_set(o, jv_string("message"),
			    jv_number((double)v->msg));
			if (v->part == SL_PART_TONE)
				o = jv_object_set(o, jv_string("at"),
				    jv_number((double)v->at));
		}
		o = jv_object_set(o, jv_string("detail"),
		    jv_string(v->detail));
		a = jv_array_append(a, o);
	}
	return a;
}

static jv
timing_jv(const struct sl_score *s)
{
	jv o = jv_object();

	o = sl_set(o, "responses", jv_number((double)s->nresp));
	o = sl_set(o, "p50", s->nresp ? jv_number(sl_score_pct(s->resp,
	    s->nresp, 50)) : jv_null());
	o = sl_set(o, "p95", s->nresp ? jv_number(sl_score_pct(s->resp,
	    s->nresp, 95)) : jv_null());
	o = sl_set(o, "p99", s->nresp ? jv_number(sl_score_pct(s->resp,
	    s->nresp, 99)) : jv_null());
	o = sl_set(o, "bursts", jv_number((double)s->bursts));
	o = sl_set(o, "replies_per_burst", jv_number(s->bursts ?
	    round(100.0 * (double)s->replies / (double)s->bursts) / 100.0 :
	    0));
	o = sl_set(o, "followups", jv_number((double)s->followups));
	return sl_set(o, "late_followups",
	    jv_number((double)s->late_followups));
}

jv
sl_score_record(const struct sl_conv *c, const struct sl_score *s)
{
	jv r = jv_object(), p = jv_object(), o;
	int i;

	r = sl_set(r, "type", jv_string("score"));
	r = sl_set(r, "conversation", jv_string(c->id));
	if (c->scenario)
		r = sl_set(r, "scenario", jv_string(c->scenario));
	r = sl_set(r, "total", jv_number(s->total));
	for (i = 0; i < SL_NPARTS; i++)
		p = sl_set(p, part_names[i], jv_number(s->part[i]));
	r = sl_set(r, "parts", p);
	r = sl_set(r, "violations", violations_jv(s));
	o = jv_object();
	o = sl_set(o, "booked", jv_bool(s->booked));
	o = sl_set(o, "email", jv_bool(s->email));
	o = sl_set(o, "followup", jv_bool(s->followup));
	o = sl_set(o, "escalated", jv_bool(s->escalated));
	r = sl_set(r, "outcome", o);
	if (jv_get_kind(c->expected) == JV_KIND_OBJECT) {
		r = sl_set(r, "expected", jv_copy(c->expected));
		r = sl_set(r, "expected_met", jv_bool(s->expected_met == 1));
	}
	o = jv_object();
	o = sl_set(o, "asked", slot_list(s->asked));
	o = sl_set(o, "learned", slot_list(s->learned));
	r = sl_set(r, "qualification", o);
	o = jv_object();
	o = sl_set(o, "messages", jv_number((double)s->agent_msgs));
	o = sl_set(o, "errors", jv_number((double)s->tone_errors));
	o = sl_set(o, "warnings", jv_number((double)s->tone_warnings));
	r = sl_set(r, "tone", o);
	return sl_set(r, "timing", timing_jv(s));
}
