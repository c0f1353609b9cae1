-- Reminders about tasks, per volunteer: before the start, and the follow-up after it.
ALTER TABLE reminders ADD COLUMN task_id INTEGER REFERENCES tasks(id) ON DELETE CASCADE;
ALTER TABLE reminders ADD COLUMN volunteer_id INTEGER;
CREATE UNIQUE INDEX reminders_task ON reminders(kind, task_id, volunteer_id, due_at);

-- What the volunteer said: coming / done / not done.
ALTER TABLE assignments ADD COLUMN outcome TEXT;
