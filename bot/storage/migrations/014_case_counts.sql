-- /cases shows how many cases are in each status at every page: kept here by the database
-- in the statement that adds a case or changes its status, instead of counted over every
-- case each time. (Each trigger stays on one line: the runner splits at ";" + newline.)
CREATE TABLE case_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO case_counts (status, n) SELECT status, COUNT(*) FROM cases GROUP BY status;
CREATE TRIGGER case_counted AFTER INSERT ON cases BEGIN INSERT INTO case_counts (status, n) VALUES (NEW.status, 1) ON CONFLICT(status) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER case_recounted AFTER UPDATE OF status ON cases WHEN NEW.status != OLD.status BEGIN UPDATE case_counts SET n = n - 1 WHERE status = OLD.status; INSERT INTO case_counts (status, n) VALUES (NEW.status, 1) ON CONFLICT(status) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER case_uncounted AFTER DELETE ON cases BEGIN UPDATE case_counts SET n = n - 1 WHERE status = OLD.status; END;
-- The ids alone, newest first: a deep page of /cases skips this small index, not the rows.
CREATE INDEX cases_newest ON cases(id)
