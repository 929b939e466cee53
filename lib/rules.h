/*
 * rules.h: the "rules" provider of agent-reply, a deterministic dialogue
 * manager that follows the methodology of skills/ without a model:
 * intents from cue words, BANT slots filled from the prospect's words, the
 * stage path of stages.json, answers from the knowledge base, and replies
 * made only from skills/templates/templates.json, each checked by the tone
 * linter before it is returned.
 *
 * It does no I/O after sl_rules_load: agent-reply keeps the state, runs the
 * tools the plan names (cal-free, zoom-book, schedule-due --add,
 * escalate) and sends the reply.
 *
 * State (borrowed by every call; every field may be absent or null):
 *
 *	{"lang": "ru"|"en", "stage": "new"|"engaged"|"qualifying"|
 *	 "qualified"|"booked"|"lost"|"closed", "name", "rep_name",
 *	 "need", "budget", "authority", "timeline", "email",
 *	 "offered": [slot records as cal-free wrote them],
 *	 "asked": the slot record chosen and waiting for an e-mail,
 *	 "question": what the last reply asked ("need", "budget",
 *	   "authority", "timeline", "slot", "followup_when", "email"),
 *	 "asks": {"need": 1, ...}, "misses": N, "turns": N,
 *	 "booking": {"start","local","local_ru","join_url"},
 *	 "stopped": bool, "escalated": bool,
 *	 "rep": "anna", "prospect": "17", "tz": the rep's zone,
 *	 "horizon_days": the rep's booking horizon (default 14: a time
 *	   named past it answers the timeline, not a meeting offer),
 *	 "prospect_tz": the prospect's zone when known}
 *
 * agent-reply merges plan.updates into the state as they are (keys it does
 * not know included) and passes the state back on the next turn.  Slots:
 * need is the prospect's words (a new string of at most 200 bytes, control
 * characters removed); budget is an amount in roubles (a number), or
 * "none" / "flexible"; authority is "decision_maker" or "influencer";
 * timeline is "now", "later", "unknown" or the time words understood
 * ("в следующем месяце").
 *
 * The plan, the result of every call:
 *
 *	{"intents": ["greeting", ...], "lang": "ru",
 *	 "updates": {state fields to store, "lead_class": "hot"|"warm"|"cold"},
 *	 "tool": {"name": "get_free_slots"|"book_meeting"|
 *	   "schedule_followup"|"escalate_to_human", "input": {...}} | null,
 *	 "reply": "the text to send" | null, "template": "the key used",
 *	 "escalate": {"reason": ...} | null, "stop": true (absent otherwise),
 *	 "context": {...}}
 *
 * With a tool and no reply, agent-reply runs the tool and calls
 * sl_rules_after_tool with the plan and the tool's output records.  With a
 * tool and a reply (escalate_to_human), it runs the tool and then sends
 * the reply; no second call is needed.  Without a tool, it sends the reply
 * if there is one; a null reply means say nothing (a human has the chat,
 * the prospect asked to stop, a follow-up is not to be sent).  "stop"
 * means: cancel pending follow-ups and never write first again.
 * "context" is the engine's own (the template to use after the tool, the
 * tool round, a preferred time): pass it back unchanged in the plan.
 *
 * Text: the texts of a turn (a burst) are read as one, joined by line
 * breaks; only the first SL_RULES_SCAN_MAX bytes are read, and control
 * characters count as spaces.  Words are compared in lower case with ё as
 * е.  The language is that of the last text with letters, else
 * state.lang, else ru.
 *
 * Order of decisions: a human has the chat (escalated: nothing); stop;
 * legal threat, refund demand, data erasure, human request, strong
 * negative (escalate_to_human, escalate_human); prompt injection
 * (discount_answer when it asks for a discount, else prompt_refusal); an
 * e-mail (book when a slot waits for it); a slot choice among the offered
 * ones ("второй", "2", "the first", "в среду", "в 15:30"); is_bot; a
 * meeting request or "позвоните" / "call me" (get_free_slots); reschedule;
 * a follow-up request with a time (schedule_followup, then followup_ack),
 * or without one (followup_ask_when); objections; discount; price
 * (price_answer with the knowledge base's exact price, or price_list); a
 * question (the best knowledge passage, service_info, kb_not_found or
 * off_topic); greeting; thanks; goodbye; otherwise the next step of the
 * path: the next unknown slot of need, budget, authority, timeline (each
 * asked at most max_asks_per_slot times), and when qualified (need and 2
 * more), get_free_slots and propose_meeting.  Nothing is booked before an
 * e-mail is known.  A text nothing was understood in gets fallback, and
 * the third in a row is handed to a human (cannot_answer).
 *
 * Cues are those of intents.json (a single Russian word of 4 letters or
 * more also matches with another ending: цена, цены, ценой), and lists of
 * rules_nlu.c for what the data has none for: prompt injection, "позвоните"
 * / "call me", the verbs of writing back ("напишите", "ping me"), question
 * words, "no budget".  A match inside a longer match of another intent
 * does not count ("are you human" is is_bot, not human_request).  Stop
 * moves the stage to lost, as intents.json and stages.json say.
 *
 * Replies: the variant of a template is chosen by a hash of the prospect,
 * the turn and the key; a variant with a placeholder that has no value is
 * skipped, and one that breaks a tone rule is replaced by the next; when
 * none passes, the template "fallback" is used.  The allowed prices of the
 * tone rules are the amounts that the knowledge base writes.  plan.template
 * is the key used, "knowledge" for a passage sent as it is (a FAQ answer)
 * and "followup_text" for the text of a follow-up.
 */
#ifndef SL_RULES_H
#define SL_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

#include "tone.h"

/* Only the first this many bytes of a turn's texts are read. */
#define SL_RULES_SCAN_MAX 8192

struct sl_rules;

/*
 * Loads skills_dir/templates/templates.json, how-to-communicate/
 * intents.json and stages.json, tone-of-voice/rules.json and the
 * knowledge base knowledge/{ru,en}/NAME.md (split into passages at "##" and
 * "###" headings; the price list and "what ... includes" passages give
 * each service its name, price, timeline and contents).  Returns NULL with
 * a message in err ("'templates.json': ...") when a file is missing or
 * malformed.
 */
struct sl_rules *sl_rules_load(const char *skills_dir, char *err,
    size_t errlen);
void sl_rules_free(struct sl_rules *r);

/*
 * One turn.  Borrows state, texts (an array of strings: the prospect's
 * messages of the turn) and passages (null, or the knowledge passages
 * agent-reply found, [{"title","body","lang"}], searched instead of the
 * engine's own).  now is the clock.  Returns a new plan.
 */
jv sl_rules_turn(struct sl_rules *r, jv state, jv texts, int64_t now,
    jv passages);

/*
 * After plan.tool ran: output (borrowed) is the array of its records
 * ([] when it printed none).  Borrows state and plan.  Returns the next
 * plan, which may name one more tool (a fresh get_free_slots after
 * booking.failed, book_meeting after fresh slots held the time the
 * prospect chose); there are at most two tool rounds a turn.
 */
jv sl_rules_after_tool(struct sl_rules *r, jv state, jv plan, jv output,
    int64_t now);

/*
 * A scheduled action that is due (a followup.due record, borrowed): the
 * plan with the message to send (due.text when it passes the tone rules,
 * else followup_message; reminder_24h / reminder_1h from state.booking),
 * or a null reply when the prospect asked to stop, a human has the chat or
 * there is nothing to say.
 */
jv sl_rules_followup(struct sl_rules *r, jv state, jv due, int64_t now);

/*
 * The tone rules of skills/, the amounts of money the knowledge base names
 * allowed (borrowed: they live until sl_rules_free), for checking what
 * somebody else wrote.
 */
const struct sl_tone_rules *sl_rules_tone(const struct sl_rules *r);

/* Calls fn(arg, body) for the text of every knowledge passage. */
void sl_rules_each_passage(const struct sl_rules *r,
    void (*fn)(void *, const char *), void *arg);

#endif
