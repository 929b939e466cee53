-- 004-prospect-status-index.sql: agent-reply asks, for one prospect, for
-- its inbound messages in a given status (the claim of a turn, its close,
-- and whether a message came while the reply was composed).  The index on
-- (status, direction, at) answered that by walking every message in that
-- status in the whole ledger, so a backlog made every turn slower.
CREATE INDEX messages_prospect_status ON messages (prospect_id, direction,
	status);
