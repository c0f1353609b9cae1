-- Volunteers: matching facts (option ids, JSON) in clear, name and phone encrypted.
CREATE TABLE volunteers (
    user_id     INTEGER PRIMARY KEY REFERENCES people(user_id) ON DELETE CASCADE,
    status      TEXT NOT NULL DEFAULT 'active',
    answers     TEXT NOT NULL,
    personal    BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX volunteers_status ON volunteers(status);
