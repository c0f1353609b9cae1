-- Indexes for the look-ups that otherwise read a whole table grown over the years (millions
-- of outbox rows, hundreds of thousands of audit rows): tests/test_scale_queries.py explains
-- every statement the bot runs and fails on a scan of a big table.
-- A case's card and messages (Take, Close, every card edit; anonymisation; the cascade).
CREATE INDEX outbox_case ON outbox(case_id, kind, status);
-- Everything to one person (erasure, a volunteer who leaves).
CREATE INDEX outbox_chat ON outbox(chat_id);
-- A task's offers: the "sent X of N" counts after every batch (read from the index alone);
-- the cascade.
CREATE INDEX outbox_task ON outbox(task_id, kind, status, error);
-- The few messages whose encrypted payload may name a volunteer (erasure reads them).
CREATE INDEX outbox_payload ON outbox(kind) WHERE payload IS NOT NULL;
-- Cases by when they came in: the statistics count them month by month.
CREATE INDEX cases_created ON cases(created_at);
-- Who did what, forgotten at erasure and retention.
CREATE INDEX audit_actor ON audit(actor_id);
-- A task's or a volunteer's reminders (cancel, change, withdraw, erasure).
CREATE INDEX reminders_task_volunteer ON reminders(task_id, volunteer_id);
CREATE INDEX reminders_volunteer ON reminders(volunteer_id);
-- The tasks about a case (erasure unlinks them).
CREATE INDEX tasks_case ON tasks(case_id);
-- Broadcasts whose progress message is not final yet: read after every outbox batch.
CREATE INDEX tasks_progress ON tasks(id) WHERE progress_message_id IS NOT NULL AND progress_done = 0
