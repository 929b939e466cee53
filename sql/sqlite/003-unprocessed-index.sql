-- 003-unprocessed-index.sql (SQLite): tg-fetch and tg-webhook ask, after
-- every batch they store, for the bot's updates not normalised yet, in
-- update_id order.  Without this index that question walked every update
-- the bot ever received (the unique key orders them by update_id, and
-- updates_pending could not give that order), so each batch cost more
-- than the last.  Only unprocessed rows are in it, so it stays small.
CREATE INDEX updates_unprocessed ON updates (channel, bot, update_id)
	WHERE processed_at IS NULL;
