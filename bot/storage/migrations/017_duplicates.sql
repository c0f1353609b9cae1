-- Possible duplicates. `case_keys`: keyed hashes (HMAC-SHA256 under a sub-key of the
-- pseudonym key) of a case's phone and of its name with its area, never the values: two
-- cases share a digest when they share the value, and nobody without the key can test a
-- guess. `case_duplicates`: a newer case flagged as a possible duplicate of an earlier one
-- (`reason`: phone, name_area or both; `state`: open, dismissed or merged, the newer case
-- then closed with a link to the earlier). Both are erased with either case's personal data.
CREATE TABLE case_keys (
    case_id  INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    digest   BLOB NOT NULL,
    PRIMARY KEY (case_id, kind)
) WITHOUT ROWID;
CREATE INDEX case_keys_digest ON case_keys(kind, digest);
CREATE TABLE case_duplicates (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    other_id    INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    reason      TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'open',
    decided_by  INTEGER,
    decided_at  TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (case_id, other_id)
);
CREATE INDEX case_duplicates_other ON case_duplicates(other_id)
