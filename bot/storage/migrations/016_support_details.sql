-- Support given, what a support type's option id does not say: the words of an "other" kind
-- of support (encrypted, anonymised with the case like the member's note), and the recording
-- member's first name as Telegram shows it (readable, like a card's "decided by").
ALTER TABLE support_given ADD COLUMN other BLOB;
ALTER TABLE support_given ADD COLUMN recorded_by_name TEXT
