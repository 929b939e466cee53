-- 001-init.sql (SQLite): the ledger's first schema.  sql/pg/001-init.sql
-- has the same tables for PostgreSQL; keep them in step.
--
-- Conventions (DESIGN.md section 6):
--   * times are integer Unix seconds (UTC), columns named *_at, due,
--     start_at, end_at; durations carry their unit (_min, _ms, _days);
--   * JSON is kept as text;
--   * flags are INTEGER 0/1 on both engines (portable "WHERE x = 1");
--   * external IDs (chat, message, user, business connection, meeting)
--     are TEXT; rows refer to each other by integer id (*_id);
--   * statuses are plain text, their values listed beside the column, so
--     a later migration can add one without rebuilding a table.
-- Migrations are forward-only, run inside a transaction by the loader
-- (no BEGIN/COMMIT here), and never edited once released.

CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at INTEGER NOT NULL
);

-- Sales representatives.
CREATE TABLE reps (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,		-- short handle: "anna"
	display_name TEXT,
	email TEXT,
	tg_user_id TEXT,			-- the rep's Telegram user id
	bot TEXT,				-- bot the rep is reached through
	business_connection TEXT UNIQUE,	-- Telegram Business connection id
	business_enabled INTEGER NOT NULL DEFAULT 0,
	business_can_reply INTEGER NOT NULL DEFAULT 0,
	tz TEXT,				-- IANA zone; NULL: $SALESLINE_TZ
	working_hours TEXT,			-- JSON {"mon":[["09:00","18:00"]],...}
	slot_min INTEGER NOT NULL DEFAULT 30,
	buffer_before_min INTEGER NOT NULL DEFAULT 0,
	buffer_after_min INTEGER NOT NULL DEFAULT 0,
	notice_min INTEGER NOT NULL DEFAULT 120,	-- minimum notice
	horizon_days INTEGER NOT NULL DEFAULT 14,
	daily_cap INTEGER,			-- meetings per day; NULL: no cap
	calendar_status TEXT NOT NULL DEFAULT 'none',	-- none, connected, disconnected
	calendar_ids TEXT,			-- JSON array of Google calendar ids
	calendar_error TEXT,
	ics_path TEXT,
	zoom_user TEXT,				-- Zoom user id or e-mail; NULL: "me"
	enabled INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

-- Bots: the getUpdates offset lives here, moved only after the updates
-- before it are stored.
CREATE TABLE bots (
	id TEXT PRIMARY KEY,			-- the bot's user id (token prefix)
	username TEXT,
	update_offset INTEGER NOT NULL DEFAULT 0,
	webhook INTEGER NOT NULL DEFAULT 0,
	last_fetch_at INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

-- Small named values: last tick, cached service tokens' metadata, ...
CREATE TABLE state (
	key TEXT PRIMARY KEY,
	value TEXT,
	updated_at INTEGER NOT NULL
);

-- The people the reps talk to: one row per conversation.
CREATE TABLE prospects (
	id INTEGER PRIMARY KEY,
	channel TEXT NOT NULL DEFAULT 'telegram',
	bot TEXT,
	business_connection TEXT NOT NULL DEFAULT '',	-- '' outside Business
	chat TEXT NOT NULL,
	rep_id INTEGER REFERENCES reps(id),
	user_id TEXT,				-- the prospect's user id
	name TEXT,
	username TEXT,
	lang TEXT,
	tz TEXT,
	email TEXT,
	phone TEXT,
	stage TEXT NOT NULL DEFAULT 'new',	-- new, engaged, qualifying,
						-- qualified, booked, closed, lost
	lead_class TEXT,
	budget TEXT,				-- BANT, free text as learned
	authority TEXT,
	need TEXT,
	timeline TEXT,
	notes TEXT,
	human_active INTEGER NOT NULL DEFAULT 0,
	human_since INTEGER,
	unreachable INTEGER NOT NULL DEFAULT 0,	-- 403 blocked / deactivated
	escalated_at INTEGER,
	last_in_at INTEGER,
	last_out_at INTEGER,
	erased_at INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (channel, business_connection, chat)
);
CREATE INDEX prospects_rep ON prospects (rep_id, stage);

-- Raw channel updates, stored before the offset moves past them.
CREATE TABLE updates (
	id INTEGER PRIMARY KEY,
	channel TEXT NOT NULL DEFAULT 'telegram',
	bot TEXT NOT NULL,
	update_id INTEGER NOT NULL,
	kind TEXT,				-- message, business_message, ...
	chat TEXT,
	business_connection TEXT,
	raw TEXT NOT NULL,			-- the update as JSON
	received_at INTEGER NOT NULL,
	processed_at INTEGER,			-- NULL: not normalised yet
	UNIQUE (channel, bot, update_id)
);
CREATE INDEX updates_pending ON updates (processed_at, id);
CREATE INDEX updates_chat ON updates (channel, chat);
CREATE INDEX updates_received ON updates (received_at);

-- Messages in and out.
CREATE TABLE messages (
	id INTEGER PRIMARY KEY,
	direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
	prospect_id INTEGER REFERENCES prospects(id),
	channel TEXT NOT NULL DEFAULT 'telegram',
	bot TEXT,
	business_connection TEXT,
	chat TEXT NOT NULL,
	msg TEXT,				-- channel message id (out: once sent)
	reply_to TEXT,
	from_id TEXT,
	text TEXT,
	key TEXT UNIQUE,			-- idempotency key
	status TEXT NOT NULL,			-- in: new, answering, answered,
						-- ignored; out: queued, sending,
						-- sent, failed, uncertain, dropped
	reply_key TEXT,				-- in: key of the answer
	claimed_until INTEGER,
	claimed_by TEXT,
	attempts INTEGER NOT NULL DEFAULT 0,
	not_before INTEGER,
	error TEXT,				-- JSON {code, message, temporary}
	degraded INTEGER NOT NULL DEFAULT 0,
	meta TEXT,				-- JSON: attachments, parts, ...
	at INTEGER NOT NULL,			-- received, or composed
	sent_at INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX messages_prospect ON messages (prospect_id, at);
CREATE INDEX messages_status ON messages (status, direction, at);
CREATE INDEX messages_chat ON messages (channel, chat, at);

-- Meetings, and short-lived holds on a slot (status 'held' until
-- hold_until).  One live booking per rep and start time.
CREATE TABLE bookings (
	id INTEGER PRIMARY KEY,
	rep_id INTEGER NOT NULL REFERENCES reps(id),
	prospect_id INTEGER REFERENCES prospects(id),
	email TEXT,
	start_at INTEGER NOT NULL,
	end_at INTEGER NOT NULL,
	provider TEXT NOT NULL DEFAULT 'jitsi',	-- zoom, jitsi
	join_url TEXT,
	meeting_id TEXT,
	calendar_event TEXT,
	topic TEXT,
	status TEXT NOT NULL DEFAULT 'booked',	-- held, booked, cancelled,
						-- expired, failed
	hold_until INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	cancelled_at INTEGER
);
CREATE UNIQUE INDEX bookings_slot ON bookings (rep_id, start_at)
	WHERE status IN ('held', 'booked');
CREATE INDEX bookings_prospect ON bookings (prospect_id);
CREATE INDEX bookings_rep_time ON bookings (rep_id, start_at, end_at);

-- Durable scheduled actions: follow-ups and meeting reminders.
CREATE TABLE scheduled_actions (
	id INTEGER PRIMARY KEY,
	prospect_id INTEGER NOT NULL REFERENCES prospects(id),
	rep_id INTEGER REFERENCES reps(id),
	booking_id INTEGER REFERENCES bookings(id),
	kind TEXT NOT NULL,			-- followup, reminder_24h, reminder_1h
	due INTEGER NOT NULL,
	status TEXT NOT NULL DEFAULT 'pending',	-- pending, claimed, done,
						-- cancelled, failed
	attempts INTEGER NOT NULL DEFAULT 0,
	lease_until INTEGER,
	claimed_by TEXT,
	reason TEXT,
	text TEXT,
	message_key TEXT UNIQUE,
	source TEXT,				-- agent, person, zoom-book, ...
	cancel_reason TEXT,			-- client_wrote, human_takeover,
						-- replaced, ...
	error TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	done_at INTEGER
);
CREATE INDEX scheduled_due ON scheduled_actions (status, due);
CREATE INDEX scheduled_lease ON scheduled_actions (status, lease_until);
CREATE INDEX scheduled_prospect ON scheduled_actions (prospect_id, status);
CREATE UNIQUE INDEX scheduled_one_followup ON scheduled_actions (prospect_id)
	WHERE kind = 'followup' AND status = 'pending';

-- Every model call.
CREATE TABLE llm_calls (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	provider TEXT NOT NULL,
	model TEXT,
	prospect_id INTEGER REFERENCES prospects(id),
	purpose TEXT,				-- reply, followup, judge, persona
	input_tokens INTEGER NOT NULL DEFAULT 0,
	output_tokens INTEGER NOT NULL DEFAULT 0,
	latency_ms INTEGER,
	cost REAL NOT NULL DEFAULT 0,		-- US dollars, estimated
	status TEXT NOT NULL,			-- ok, error, timeout, budget
	http_status INTEGER,
	error TEXT
);
CREATE INDEX llm_calls_at ON llm_calls (at);
CREATE INDEX llm_calls_prospect ON llm_calls (prospect_id, at);

-- The knowledge base, split into passages, with full-text search.
CREATE TABLE kb_chunks (
	id INTEGER PRIMARY KEY,
	source TEXT NOT NULL,			-- file under skills/knowledge/
	position INTEGER NOT NULL,
	lang TEXT,
	title TEXT,
	body TEXT NOT NULL,
	hash TEXT,
	updated_at INTEGER NOT NULL,
	UNIQUE (source, position)
);
CREATE VIRTUAL TABLE kb_fts USING fts5 (
	title, body,
	content = 'kb_chunks', content_rowid = 'id',
	tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER kb_chunks_ai AFTER INSERT ON kb_chunks BEGIN
	INSERT INTO kb_fts (rowid, title, body)
	VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER kb_chunks_ad AFTER DELETE ON kb_chunks BEGIN
	INSERT INTO kb_fts (kb_fts, rowid, title, body)
	VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER kb_chunks_au AFTER UPDATE ON kb_chunks BEGIN
	INSERT INTO kb_fts (kb_fts, rowid, title, body)
	VALUES ('delete', old.id, old.title, old.body);
	INSERT INTO kb_fts (rowid, title, body)
	VALUES (new.id, new.title, new.body);
END;

-- Stress runs and their per-conversation results.
CREATE TABLE runs (
	id INTEGER PRIMARY KEY,
	label TEXT,
	started_at INTEGER NOT NULL,
	finished_at INTEGER,
	status TEXT NOT NULL DEFAULT 'running',	-- running, done, failed
	params TEXT,				-- JSON
	conversations INTEGER NOT NULL DEFAULT 0,
	passed INTEGER NOT NULL DEFAULT 0,
	mean_score REAL,
	summary TEXT				-- JSON
);
CREATE TABLE results (
	id INTEGER PRIMARY KEY,
	run_id INTEGER NOT NULL REFERENCES runs(id),
	scenario TEXT NOT NULL,
	repeat INTEGER NOT NULL DEFAULT 0,
	prospect_id INTEGER REFERENCES prospects(id),
	passed INTEGER NOT NULL DEFAULT 0,
	total REAL,
	parts TEXT,				-- JSON
	violations TEXT,			-- JSON
	outcome TEXT,				-- JSON
	timing TEXT,				-- JSON
	transcript TEXT,			-- JSON lines
	started_at INTEGER NOT NULL,
	finished_at INTEGER,
	UNIQUE (run_id, scenario, repeat)
);

-- Service credentials: per-rep OAuth tokens (account = the rep's name),
-- company-wide ones (account = '').  Never printed.
CREATE TABLE tokens (
	id INTEGER PRIMARY KEY,
	provider TEXT NOT NULL,			-- google, zoom
	account TEXT NOT NULL DEFAULT '',
	rep_id INTEGER REFERENCES reps(id),
	kind TEXT NOT NULL,			-- access, refresh
	value TEXT NOT NULL,
	scope TEXT,
	expires_at INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (provider, account, kind)
);

-- What was done to people's data and by whom.  detail is JSON and never
-- holds personal data.
CREATE TABLE audit (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	actor TEXT,				-- the command, or a person
	action TEXT NOT NULL,			-- erase, takeover, escalate, ...
	subject TEXT,				-- e.g. a prospect id
	detail TEXT
);
CREATE INDEX audit_subject ON audit (subject, at);
CREATE INDEX audit_at ON audit (at);
