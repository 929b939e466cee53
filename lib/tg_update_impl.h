/*
 * tg_update_impl.h: what tg_update.c (processing) and tg_store.c (storing)
 * share.  Not for commands: they see tg_update.h.
 */
#ifndef SL_TG_UPDATE_IMPL_H
#define SL_TG_UPDATE_IMPL_H

#include <stdint.h>

#include <jv.h>

#include "db.h"
#include "tg.h"

struct sl_tgu {
	struct sl_db *db;
	struct sl_tg *tg;
	jv rep_id;		/* the rep of direct chats given, or null */
	jv cache;		/* update_id -> the update, as just stored */
	jv direct;		/* the bot's first rep, read in this group */
	unsigned long rejected;
	int64_t beat;		/* when an empty poll was last noted */
};

/* The kind of an update (borrowed): a known one, else its first field. */
const char *sl_tgu_kind(jv upd, char *buf, size_t size);
/* row[name] (row borrowed); null when row is not an object. */
jv sl_tgu_col(jv row, const char *name);

#endif
