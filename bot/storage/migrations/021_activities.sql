-- Community activities the committee announces (a gathering, a sports day, a class). The
-- member's words (title, description, place) are encrypted in `content`; the start, the
-- capacity (NULL: no limit), the audience (families, volunteers, both) and the area (NULL:
-- every area) are in clear. The creator and the chat of the counts message are pseudonyms,
-- with the real ids encrypted beside them (the bot writes to both).
CREATE TABLE activities (
    id                 INTEGER PRIMARY KEY,
    ref                TEXT NOT NULL UNIQUE,
    creator_id         INTEGER NOT NULL,
    creator            BLOB NOT NULL,
    status             TEXT NOT NULL DEFAULT 'open',
    content            BLOB NOT NULL,
    starts_at          TEXT NOT NULL,
    capacity           INTEGER,
    audience           TEXT NOT NULL,
    area               TEXT,
    counts_chat        INTEGER,
    counts_to          BLOB,
    counts_message_id  INTEGER,
    announcing         INTEGER NOT NULL DEFAULT 1,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX activities_status ON activities(status, starts_at);

-- Who was invited and what they answered: invited, coming, waiting (in `position` order),
-- not_coming. The person is a pseudonym, with their chat id encrypted (`person`).
CREATE TABLE activity_answers (
    activity_id  INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    person_id    INTEGER NOT NULL,
    person       BLOB NOT NULL,
    status       TEXT NOT NULL,
    position     INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (activity_id, person_id)
);
CREATE INDEX activity_answers_person ON activity_answers(person_id, status);

-- Messages about an activity (announcements, reminders, changes) name it.
ALTER TABLE outbox ADD COLUMN activity_id INTEGER REFERENCES activities(id) ON DELETE CASCADE;
CREATE INDEX outbox_activity ON outbox(activity_id, kind, status);
-- The day-before reminder of each person coming (volunteer_id/volunteer hold the person).
ALTER TABLE reminders ADD COLUMN activity_id INTEGER REFERENCES activities(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX reminders_activity ON reminders(kind, activity_id, volunteer_id, due_at);

-- Whether the person wants to hear about community activities (no row: never asked, so no).
CREATE TABLE activity_choices (
    user_id     INTEGER PRIMARY KEY REFERENCES people(user_id) ON DELETE CASCADE,
    wants       INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
)
