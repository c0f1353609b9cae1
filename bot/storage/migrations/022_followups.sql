-- The follow-up at the end of a support period: the family is asked, some days before the
-- period ends, how things are now. One row per case and period (`until`, the period's last
-- day), made with the approval or renewal (or at start-up for a case approved before), so a
-- renewal asks again and a restart never asks twice. `answer` (better, same or worse) and the
-- family's own words (`words`) are what the family said about itself: both encrypted.
-- `asked_at`: when the question was queued.
CREATE TABLE followups (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    until        TEXT NOT NULL,
    due_at       TEXT NOT NULL,
    asked_at     TEXT,
    answer       BLOB,
    words        BLOB,
    answered_at  TEXT,
    created_at   TEXT NOT NULL,
    UNIQUE (case_id, until)
);
