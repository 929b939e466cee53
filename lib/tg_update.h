/*
 * tg_update.h: Telegram updates into the ledger, then into salesline
 * records; shared by tg-fetch (getUpdates) and tg-webhook.
 *
 * Receiving happens in two steps, each its own transaction, so that a
 * process killed at any point loses nothing and emits nothing twice
 * (DESIGN.md section 8):
 *
 *   1. store: the raw update goes into `updates` (unique per channel, bot
 *      and update_id, so a replay stores nothing), with processed_at
 *      NULL; a getUpdates batch is stored in one transaction together
 *      with the bot's new offset (bots.update_offset = max id + 1).
 *   2. process: every stored update of the bot with processed_at NULL, in
 *      update_id order, is normalised (prospect, message, follow-ups
 *      cancelled, processed_at set) in a savepoint of its own, within one
 *      transaction for up to 100 updates that need no call to Telegram
 *      in between (the updates just stored are taken as they came, not
 *      parsed again from the stored text); their records are written on
 *      stdout after the commit.  A crash between the commit and the
 *      writes loses only the stdout copies; the ledger has them.
 *      Claiming an update (processed_at set WHERE it is NULL) first makes
 *      two processes safe: each update is normalised once.
 *
 * The records (docs/notes/telegram-contract.md, tg-fetch(1)):
 * message.in, message.edit, human.takeover, callback, rep.connection,
 * message.deleted.  A malformed update (a missing or mistyped field) is
 * reported as "prog: update N: reason", marked processed and counted; an
 * unknown kind is stored and marked processed without a word (-v says so).
 */
#ifndef SL_TG_UPDATE_H
#define SL_TG_UPDATE_H

#include <stdint.h>

#include <jv.h>

#include "db.h"
#include "tg.h"

struct sl_tgu;

/*
 * The receiving side of the bot tg->bot over db (both borrowed; tg is
 * used to answer callback queries and to look up business connections not
 * seen yet).  rep names the rep of direct chats with the bot; NULL:
 * $SALESLINE_REP, else the first enabled rep whose reps.bot is this bot,
 * else none.  Returns NULL after reporting a rep that is not in the
 * ledger (exit 78) or a ledger failure; *code gets the exit status.
 */
struct sl_tgu *sl_tgu_new(struct sl_db *db, struct sl_tg *tg,
    const char *rep, int *code);
void sl_tgu_free(struct sl_tgu *u);

/* The update types asked for with getUpdates and setWebhook (new array). */
jv sl_tgu_allowed_updates(void);

/* The bot's stored getUpdates offset (0 when none); 0, or an exit status. */
int sl_tgu_offset(struct sl_tgu *u, int64_t *offset);

/*
 * Stores a getUpdates result (consumed) in one transaction with the new
 * offset, which is put in *offset (left alone when the batch has no
 * update).  An entry that is not an object or has no integral update_id is
 * reported and skipped.  A result that is not an array is reported and
 * stores nothing.  body, when not NULL, is the text of the answer that
 * result was parsed from: each update is then stored as Telegram wrote
 * it rather than written out again.  Returns 0, or an exit status (75
 * ledger busy or down).
 */
int sl_tgu_store_batch(struct sl_tgu *u, jv result, const char *body,
    size_t body_len, int64_t *offset);

/*
 * Stores one update (consumed), as a webhook delivers it.  Returns 0
 * (also when it was stored before), SL_EX_DATAERR when it is not an
 * object with an update_id (reported), or the ledger's exit status.
 */
int sl_tgu_store_one(struct sl_tgu *u, jv update);

/*
 * Normalises the bot's stored, unprocessed updates and writes their
 * records on stdout.  Returns 0, SL_EX_IOERR when stdout failed, or the
 * ledger's exit status (75 when busy).
 */
int sl_tgu_process(struct sl_tgu *u);

/* Updates reported as malformed so far (stored or processed). */
unsigned long sl_tgu_rejected(const struct sl_tgu *u);

#endif
