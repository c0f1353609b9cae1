-- Messages the bot deletes from a chat when they expire (the Details a member was sent).
-- The chat and the message ids are encrypted together in `target`: no Telegram id in clear.
CREATE TABLE expiring_messages (
    id INTEGER PRIMARY KEY,
    target BLOB NOT NULL,
    sent_at TEXT NOT NULL,
    delete_at TEXT NOT NULL
);
CREATE INDEX expiring_messages_due ON expiring_messages(delete_at);
