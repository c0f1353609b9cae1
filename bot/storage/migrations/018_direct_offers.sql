-- A task a member offers to one volunteer rather than to everyone who fits: `offered_to` is
-- that volunteer's pseudonym (NULL for a broadcast; 0 once the volunteer's data is erased).
-- Such a task stays off everyone else's /tasks, and only that volunteer may take it.
ALTER TABLE tasks ADD COLUMN offered_to INTEGER;
