-- The counts of a broadcast's "sent X of N" message, kept on the task: reading the progress
-- after every batch then reads the task only, never its tens of thousands of offers.
-- Blocked: refused with Forbidden; failed: any other failure, or skipped.
-- `offers_total` grows when the offers are queued (one statement for them all,
-- bot.storage.outbox.enqueue_offers: a trigger per inserted row would slow a broadcast to
-- thousands down), and shrinks when an offer still waiting is deleted (its volunteer erased
-- or gone). What happens to an offer afterwards (sent, blocked, given up, skipped, retried)
-- is counted by a trigger in the statement that changes it, whichever code makes the change.
-- (Each trigger stays on one line: the migration runner splits statements at ";" + newline.)
ALTER TABLE tasks ADD COLUMN offers_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN offers_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN offers_blocked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN offers_failed INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET offers_total = (SELECT COUNT(*) FROM outbox o WHERE o.task_id = tasks.id AND o.kind = 'task_offer'), offers_sent = (SELECT COUNT(*) FROM outbox o WHERE o.task_id = tasks.id AND o.kind = 'task_offer' AND (o.status = 'sent')), offers_blocked = (SELECT COUNT(*) FROM outbox o WHERE o.task_id = tasks.id AND o.kind = 'task_offer' AND (o.status = 'failed' AND COALESCE(o.error, '') = 'Forbidden')), offers_failed = (SELECT COUNT(*) FROM outbox o WHERE o.task_id = tasks.id AND o.kind = 'task_offer' AND (o.status IN ('failed', 'skipped') AND COALESCE(o.error, '') != 'Forbidden'));
CREATE TRIGGER task_offer_changed AFTER UPDATE OF status, error ON outbox WHEN NEW.kind = 'task_offer' BEGIN UPDATE tasks SET offers_sent = offers_sent + (NEW.status = 'sent') - (OLD.status = 'sent'), offers_blocked = offers_blocked + (NEW.status = 'failed' AND COALESCE(NEW.error, '') = 'Forbidden') - (OLD.status = 'failed' AND COALESCE(OLD.error, '') = 'Forbidden'), offers_failed = offers_failed + (NEW.status IN ('failed', 'skipped') AND COALESCE(NEW.error, '') != 'Forbidden') - (OLD.status IN ('failed', 'skipped') AND COALESCE(OLD.error, '') != 'Forbidden') WHERE id = NEW.task_id; END;
CREATE TRIGGER task_offer_withdrawn AFTER DELETE ON outbox WHEN OLD.kind = 'task_offer' AND OLD.status = 'pending' BEGIN UPDATE tasks SET offers_total = offers_total - 1 WHERE id = OLD.task_id; END
