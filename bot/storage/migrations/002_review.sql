-- The committee's review: who took a case, the decision, and the optimistic-lock version
-- that makes concurrent decisions safe (exactly one conditional UPDATE wins).
ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
-- Members' ids and first names (as Telegram shows them in the group; not family data).
ALTER TABLE cases ADD COLUMN assignee_id INTEGER;
ALTER TABLE cases ADD COLUMN assignee_name TEXT;
ALTER TABLE cases ADD COLUMN decided_by INTEGER;
ALTER TABLE cases ADD COLUMN decided_by_name TEXT;
ALTER TABLE cases ADD COLUMN decided_at TEXT;
-- Non-personal facts of the decision (support types, end date, reason id), JSON.
ALTER TABLE cases ADD COLUMN decision TEXT;
-- The member's own words to the family, encrypted.
ALTER TABLE cases ADD COLUMN decision_message BLOB;
ALTER TABLE cases ADD COLUMN support_until TEXT;

-- A message in the outbox may carry encrypted specifics (a question for the family...).
ALTER TABLE outbox ADD COLUMN payload BLOB;

-- Questions from the committee to a family, and the family's answers, encrypted.
CREATE TABLE info_requests (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    member_id    INTEGER NOT NULL,
    question     BLOB NOT NULL,
    answer       BLOB,
    asked_at     TEXT NOT NULL,
    answered_at  TEXT
);
CREATE INDEX info_requests_case ON info_requests(case_id);

-- Internal notes of the committee on a case, encrypted.
CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL,
    at         TEXT NOT NULL,
    body       BLOB NOT NULL
);
CREATE INDEX notes_case ON notes(case_id);

-- Scheduled reminders; the scheduler is rebuilt from these rows at start-up, and a due
-- reminder is claimed (status 'pending' -> 'sent') before it is sent.
CREATE TABLE reminders (
    id       INTEGER PRIMARY KEY,
    kind     TEXT NOT NULL,
    case_id  INTEGER REFERENCES cases(id) ON DELETE CASCADE,
    due_at   TEXT NOT NULL,
    status   TEXT NOT NULL DEFAULT 'pending',
    UNIQUE (kind, case_id, due_at)
);
CREATE INDEX reminders_due ON reminders(status, due_at);

-- A pending multi-step interaction of one person (a member approving, a family answering a
-- question), encrypted, so that a restart in the middle loses nothing.
CREATE TABLE sessions (
    user_id     INTEGER PRIMARY KEY,
    payload     BLOB NOT NULL,
    updated_at  TEXT NOT NULL
);
