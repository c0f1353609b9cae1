-- People who talk to the bot: language and whether they can be reached.
CREATE TABLE people (
    user_id     INTEGER PRIMARY KEY,
    language    TEXT NOT NULL,
    reachable   INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- One intake draft per person; everything about it is in the encrypted payload.
CREATE TABLE drafts (
    user_id     INTEGER PRIMARY KEY REFERENCES people(user_id) ON DELETE CASCADE,
    payload     BLOB NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Submitted cases. `answers` holds the form's non-personal answers (option ids and counts,
-- JSON) for the card and statistics; identifying answers (steps marked `personal` in the
-- form) live only in the encrypted `personal` column.
CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    ref             TEXT NOT NULL UNIQUE,
    user_id         INTEGER REFERENCES people(user_id) ON DELETE SET NULL,
    language        TEXT NOT NULL,
    status          TEXT NOT NULL,
    answers         TEXT NOT NULL,
    personal        BLOB,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX cases_user ON cases(user_id);
CREATE INDEX cases_status ON cases(status);

-- Who did or saw what, when. Never personal data: ids and event names only.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    INTEGER,
    case_id     INTEGER REFERENCES cases(id) ON DELETE SET NULL,
    action      TEXT NOT NULL,
    detail      TEXT
);
CREATE INDEX audit_case ON audit(case_id);

-- Messages to send, written in the same transaction as the change that causes them.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    chat_id         INTEGER NOT NULL,
    case_id         INTEGER REFERENCES cases(id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    message_id      INTEGER,
    error           TEXT
);
CREATE INDEX outbox_pending ON outbox(status, next_attempt_at);
