-- 002-unsent-index.sql (SQLite): tg-send asks, before each message,
-- whether an older one of the same chat is still unsent.  Without this
-- index that question read every message the chat ever had, so a long
-- conversation made each send slower than the last.  Only unsent rows
-- are in it, so it stays small.
CREATE INDEX messages_unsent ON messages (channel, chat, id)
	WHERE status IN ('queued', 'sending');
