-- What the committee gave a family, and whether the family confirmed it arrived. `kind` is a
-- support type's option id and `amount`/`currency` a financial gift's figures: the case's
-- figures, kept readable for reports like its answers. The member's words (`note`) and the
-- recording member's Telegram id (`recorder`, to alert them privately) are encrypted;
-- `recorded_by` is the member's pseudonym. `receipt`: pending, received, not_received, or
-- unanswered (nobody tapped within RECEIPT_DAYS); `alerted_at`: when the recorder was told.
CREATE TABLE support_given (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    amount       TEXT,
    currency     TEXT,
    note         BLOB,
    given_on     TEXT NOT NULL,
    recorded_by  INTEGER,
    recorder     BLOB,
    task_id      INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
    receipt      TEXT NOT NULL DEFAULT 'pending',
    receipt_at   TEXT,
    alerted_at   TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX support_given_case ON support_given(case_id, given_on);
CREATE INDEX support_given_on ON support_given(given_on);
CREATE INDEX support_given_receipt ON support_given(receipt, created_at)
