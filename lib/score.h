/*
 * score.h: how good one sales conversation was, as a number, for
 * score-conv (and stress-run after it).
 *
 * A conversation (struct sl_conv) is read from either of two shapes of
 * JSON lines: the self-contained "conversation" record that stress-run
 * writes (sl_conv_from_record), or the records `salesline-db export`
 * writes, a "prospect" record followed by its message.in, message.out,
 * scheduled_action and booking records (sl_conv_from_prospect, then
 * sl_conv_add for each).  Both give the same structure; score-conv(1)
 * documents the fields.
 *
 * sl_score_conv scores it: five parts of 0 to 100 (qualification,
 * methodology, tone, outcome, timing), their weighted total, the
 * violations found, the outcome and the timing figures.  The tone part
 * uses the tone linter (tone.h) with the rules of
 * skills/tone-of-voice/rules.json and the amounts the knowledge base
 * names as the allowed prices, as agent-reply does.  Scoring is
 * deterministic: the same conversation always gives the same record.
 */
#ifndef SL_SCORE_H
#define SL_SCORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jv.h>

#include "tone.h"

enum { SL_BY_PROSPECT, SL_BY_AGENT, SL_BY_HUMAN };

struct sl_conv_msg {
	int out;		/* 1: written to the prospect */
	int by;			/* SL_BY_* */
	int followup;		/* a follow-up or reminder we wrote first */
	int degraded;
	char *text;
	size_t len;
	int64_t at;		/* Unix seconds; -1 unknown */
	char *key;		/* may be NULL */
};

enum {
	SL_EV_TAKEOVER,		/* a human took the chat */
	SL_EV_HANDBACK,		/* and gave it back */
	SL_EV_FOLLOWUP_SCHEDULED,
	SL_EV_FOLLOWUP_SENT,
	SL_EV_FOLLOWUP_CANCELLED,
	SL_EV_BOOKING,
	SL_EV_ESCALATION,
};

struct sl_conv_event {
	int kind;		/* SL_EV_* */
	int64_t at;		/* -1 unknown */
	int64_t due;		/* follow-ups: when it was due; -1 unknown */
	int64_t scheduled;	/* follow-ups: when it was scheduled */
	char *id;		/* follow-ups: the action's id, may be NULL */
	char *email, *join_url;	/* bookings; NULL when absent */
};

/* BANT, in the order stages.json asks for them. */
enum { SL_SLOT_NEED, SL_SLOT_BUDGET, SL_SLOT_AUTHORITY, SL_SLOT_TIMELINE,
	SL_NSLOTS };

struct sl_conv {
	char *id, *scenario, *lang;
	unsigned long line;	/* where it started in the input */
	struct sl_conv_msg *m;
	size_t nm, cm;
	struct sl_conv_event *e;
	size_t ne, ce;
	int has_state;		/* the BANT slots below are known */
	int learned[SL_NSLOTS];
	char *email;		/* the prospect's e-mail, when known */
	jv expected;		/* {booked,email,followup,escalated} or null */
	jv judge;		/* the judge's object, or null (score-conv) */
};

struct sc_cfg_cues;

/* What scoring needs: the tone rules with the allowed prices, limits. */
struct sl_score_cfg {
	struct sl_tone_rules tone;
	char **prices;		/* owned; the tone rules' allowed prices */
	size_t nprices;
	long slow_s;		/* a reply slower than this is slow: 120 */
	long late_s;		/* a follow-up later than this is late: 900 */
	struct sc_cfg_cues *cues;	/* intents.json's, score_impl.h */
};

/*
 * Loads skills_dir/tone-of-voice/rules.json and the amounts of money of
 * skills_dir/knowledge/{ru,en}/ *.md as the allowed prices.  Returns 0, or
 * -1 with a message in err naming the file.
 */
int sl_score_cfg_load(struct sl_score_cfg *cfg, const char *skills_dir,
    char *err, size_t errlen);
void sl_score_cfg_free(struct sl_score_cfg *cfg);

/*
 * A conversation from a "conversation" record (borrowed).  Returns it, or
 * NULL with the field at fault in err ("'messages[2].dir': expected "in"
 * or "out"").
 */
struct sl_conv *sl_conv_from_record(jv rec, char *err, size_t errlen);
/* A conversation begun by a "prospect" record (borrowed) of an export. */
struct sl_conv *sl_conv_from_prospect(jv rec, char *err, size_t errlen);
/*
 * Adds one record of an export (borrowed): message.in, message.out,
 * scheduled_action, booking, human.takeover, escalation.  Returns 1 when
 * it was added, 0 when its type is none of these (ignored), -1 with err.
 */
int sl_conv_add(struct sl_conv *c, jv rec, char *err, size_t errlen);
/* Sorts messages and events by time, ready to score. */
void sl_conv_finish(struct sl_conv *c);
void sl_conv_free(struct sl_conv *c);

enum { SL_PART_QUALIFICATION, SL_PART_METHODOLOGY, SL_PART_TONE,
	SL_PART_OUTCOME, SL_PART_TIMING, SL_NPARTS };

/* The weights of the parts in the total; they add up to 100. */
extern const int sl_score_weights[SL_NPARTS];
const char *sl_score_part_name(int part);

struct sl_violation {
	const char *rule;	/* "em_dash", "message_after_takeover", ... */
	int part;		/* SL_PART_* */
	int warning;		/* 1: a warning, 0: an error */
	long msg;		/* index in c->m, -1 none */
	size_t at, len;		/* bytes of the message concerned */
	char detail[96];
};

struct sl_score {
	double part[SL_NPARTS];
	int total;		/* the deterministic total, 0 to 100 */
	struct sl_violation *v;
	size_t nv, cv;
	int asked[SL_NSLOTS], learned[SL_NSLOTS];
	int booked, email, followup, escalated;	/* the outcome */
	int expected_met;	/* -1: nothing expected */
	double *resp;		/* response times in seconds, sorted */
	size_t nresp;
	size_t bursts, replies;
	long tone_errors, tone_warnings, agent_msgs;
	long followups, late_followups;
};

/* Scores c (borrowed, finished) into s, which it fills from zero. */
void sl_score_conv(const struct sl_score_cfg *cfg, const struct sl_conv *c,
    struct sl_score *s);
void sl_score_free(struct sl_score *s);

/* The p-th percentile (0 to 100, nearest rank) of n sorted values. */
double sl_score_pct(const double *v, size_t n, double p);

/*
 * The score record of c and s: {"type":"score","conversation","scenario"?,
 * "total","parts":{...},"violations":[...],"outcome":{...},"expected"?,
 * "qualification":{...},"tone":{...},"timing":{...}}.  A new object.
 */
jv sl_score_record(const struct sl_conv *c, const struct sl_score *s);

/*
 * The report (score_report.c): every conversation added with its score
 * (both are taken over and freed with the report), earlier runs for the
 * trend, then written once as Markdown or as one self-contained HTML page
 * with inline SVG charts.
 */
enum { SL_REPORT_MD, SL_REPORT_HTML };
struct sl_report;

struct sl_report *sl_report_new(int format);
void sl_report_add(struct sl_report *r, struct sl_conv *c,
    struct sl_score *s);
/* An earlier run: its name, mean total and number of conversations. */
void sl_report_previous(struct sl_report *r, const char *name, double mean,
    size_t n);
/* rejected: input lines rejected, said in the summary. */
int sl_report_write(struct sl_report *r, FILE *f, unsigned long rejected);
void sl_report_free(struct sl_report *r);

#endif
