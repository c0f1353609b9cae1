-- The member's "sent X of N" message, edited in place while a task's offers go out.
ALTER TABLE tasks ADD COLUMN progress_chat INTEGER;
ALTER TABLE tasks ADD COLUMN progress_message_id INTEGER;
ALTER TABLE tasks ADD COLUMN progress_done INTEGER NOT NULL DEFAULT 0;
