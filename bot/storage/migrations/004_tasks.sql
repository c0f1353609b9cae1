-- Tasks the committee publishes to volunteers. The member's own words (title, description)
-- are encrypted; matching facts and times are in clear.
CREATE TABLE tasks (
    id            INTEGER PRIMARY KEY,
    ref           TEXT NOT NULL UNIQUE,
    creator_id    INTEGER NOT NULL,
    status        TEXT NOT NULL DEFAULT 'open',
    content       BLOB NOT NULL,
    skill         TEXT NOT NULL,
    area          TEXT NOT NULL,
    starts_at     TEXT NOT NULL,
    duration_min  INTEGER NOT NULL,
    needed        INTEGER NOT NULL,
    case_id       INTEGER REFERENCES cases(id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX tasks_status ON tasks(status, starts_at);

-- Who answered a task: accepted (holds a slot), waitlisted (in order), declined, withdrawn.
CREATE TABLE assignments (
    task_id       INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    volunteer_id  INTEGER NOT NULL,
    status        TEXT NOT NULL,
    position      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (task_id, volunteer_id)
);
CREATE INDEX assignments_volunteer ON assignments(volunteer_id, status);

-- Messages about a task (offers, promotions, reminders) name it.
ALTER TABLE outbox ADD COLUMN task_id INTEGER REFERENCES tasks(id) ON DELETE CASCADE;
