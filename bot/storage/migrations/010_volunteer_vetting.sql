-- Vetted volunteers: the committee names a volunteer by a short random reference (never a
-- Telegram id). New profiles start 'pending' (the code says so when it inserts them); the
-- column's default stays 'active', so the volunteers registered before this migration stay
-- active. The alphabet is the case references' (no 0/O, 1/I/L, 5/S, 8/B confusions).
ALTER TABLE volunteers ADD COLUMN ref TEXT;
UPDATE volunteers SET ref = 'V-' || substr('234679ACDEFGHJKMNPQRTUVWXYZ', abs(random() % 27) + 1, 1) || substr('234679ACDEFGHJKMNPQRTUVWXYZ', abs(random() % 27) + 1, 1) || substr('234679ACDEFGHJKMNPQRTUVWXYZ', abs(random() % 27) + 1, 1) || substr('234679ACDEFGHJKMNPQRTUVWXYZ', abs(random() % 27) + 1, 1) || substr('234679ACDEFGHJKMNPQRTUVWXYZ', abs(random() % 27) + 1, 1) || substr('234679ACDEFGHJKMNPQRTUVWXYZ', abs(random() % 27) + 1, 1) WHERE ref IS NULL;
CREATE UNIQUE INDEX volunteers_ref ON volunteers(ref);
-- Every profile gets its reference when it is written, whichever statement writes it (the
-- trigger's body stays on one line: the migration runner splits statements at ";" + newline).
CREATE TRIGGER volunteers_new_ref AFTER INSERT ON volunteers WHEN NEW.ref IS NULL BEGIN UPDATE volunteers SET ref = 'V-' || substr('234679ACDEFGHJKMNPQRTUVWXYZ', abs(random() % 27) + 1, 1) || substr('234679ACDEFGHJKMNPQRTUVWXYZ', abs(random() % 27) + 1, 1) || substr('234679ACDEFGHJKMNPQRTUVWXYZ', abs(random() % 27) + 1, 1) || substr('234679ACDEFGHJKMNPQRTUVWXYZ', abs(random() % 27) + 1, 1) || substr('234679ACDEFGHJKMNPQRTUVWXYZ', abs(random() % 27) + 1, 1) || substr('234679ACDEFGHJKMNPQRTUVWXYZ', abs(random() % 27) + 1, 1) WHERE rowid = NEW.rowid; END;
