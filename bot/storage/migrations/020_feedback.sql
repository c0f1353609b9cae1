-- Feedback and concerns sent to the committee's trustees with /feedback. The person is their
-- pseudonym (`user_id`) with their Telegram id encrypted (`person`), to tell them the answer;
-- `topic` is an option id (thanks, help, person, other) and `language` the person's language
-- when they wrote, for the answer once the people row is gone. Their words or voice note
-- (`body`) and the trustee's answer (`answer`) are encrypted. `status`: open, answered,
-- closed; `ref` is the reference the person is given (F-XXX-XXX).
CREATE TABLE feedback (
    id          INTEGER PRIMARY KEY,
    ref         TEXT NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL,
    person      BLOB NOT NULL,
    language    TEXT NOT NULL,
    topic       TEXT NOT NULL,
    body        BLOB NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open',
    answer      BLOB,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    closed_at   TEXT
);
CREATE INDEX feedback_user ON feedback(user_id);
CREATE INDEX feedback_status ON feedback(status, id);
CREATE INDEX feedback_updated ON feedback(updated_at)
