"""Layering: every SQL statement lives in bot/storage/, and only bot/storage/ talks to SQLite.

The modules of bot/ and handlers/ are parsed (never imported) and every string literal and
f-string is checked. SQL is recognised by its statement keywords in upper case, the way this
code base writes it, at the start of the string: English text ("Update the card",
"COMMITTEE_CHAT_ID", "Select a date") is not SQL.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STORAGE = ROOT / "bot" / "storage"
DRIVERS = ("aiosqlite", "sqlite3")

NAME = r"[\w\"{}\[\].]+"  # a table or column, also as a str.format placeholder
SQL = re.compile(
    r"\(?\s*(?:"
    r"SELECT\b.*\bFROM\b|SELECT\s+(?:\d|COUNT\b|MIN\b|MAX\b|\*)"
    r"|INSERT\s+(?:OR\s+[A-Z]+\s+)?INTO\b|REPLACE\s+INTO\b"
    rf"|UPDATE\s+(?:OR\s+[A-Z]+\s+)?{NAME}\s+SET\b|DELETE\s+FROM\b"
    r"|PRAGMA\s+\w"
    r"|(?:CREATE|DROP)\s+(?:TEMP\s+|TEMPORARY\s+|UNIQUE\s+|VIRTUAL\s+)?"
    r"(?:TABLE|INDEX|VIEW|TRIGGER)\b|ALTER\s+TABLE\b"
    r"|WITH\s+(?:RECURSIVE\s+)?\w+(?:\s*\([^)]*\))?\s+AS\s*\("
    r"|BEGIN(?:\s+(?:DEFERRED|IMMEDIATE|EXCLUSIVE))?(?:\s+TRANSACTION)?\s*;?\s*$"
    r"|(?:COMMIT|ROLLBACK)(?:\s+TRANSACTION)?\s*;?\s*$|ROLLBACK\s+TO\b"
    rf"|SAVEPOINT\s+{NAME}\s*$|RELEASE\s+(?:SAVEPOINT\s+)?{NAME}\s*$"
    r"|VACUUM\b|ANALYZE\b|REINDEX\b|ATTACH\s+(?:DATABASE\s+)?\S|DETACH\s+\S"
    r")",
    re.S,
)


def modules() -> list[Path]:
    """Every module of bot/ and handlers/."""
    return sorted(p for folder in ("bot", "handlers") for p in (ROOT / folder).rglob("*.py"))


def is_sql(text: str) -> bool:
    """Whether a string is an SQL statement."""
    return SQL.match(text) is not None


def literal_text(node: ast.AST) -> str | None:
    """The text of a string literal, or of an f-string with each placeholder as ``x``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "x"
            for part in node.values
        )
    return None


def sql_in(path: Path) -> list[tuple[int, str, str]]:
    """(line, enclosing function, statement) of every SQL string in the module."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    inside: dict[ast.AST, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for child in ast.walk(node):
                inside.setdefault(child, node.name)  # ast.walk: outer functions come first
    parts = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    found = []
    for node in ast.walk(tree):
        text = None if id(node) in parts else literal_text(node)
        if text is not None and is_sql(text):
            where = inside.get(node, "<module>")
            found.append((getattr(node, "lineno", 0), where, " ".join(text.split())[:60]))
    return found


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_no_sql_outside_storage() -> None:
    outside = [
        f"{relative(path)}:{line} ({function}): {text!r}"
        for path in modules()
        if not path.is_relative_to(STORAGE)
        for line, function, text in sql_in(path)
    ]
    assert not outside, "SQL outside bot/storage/:\n" + "\n".join(outside)


def test_storage_is_found_by_the_check() -> None:
    """The check sees the repositories' SQL (it does not pass by finding nothing)."""
    counted = {relative(p): len(sql_in(p)) for p in STORAGE.rglob("*.py")}
    assert counted["bot/storage/cases.py"] >= 10
    assert counted["bot/storage/db.py"] >= 5  # PRAGMA, BEGIN, COMMIT, SAVEPOINT...


def test_only_storage_imports_the_database_driver() -> None:
    found = []
    for path in modules():
        if path.is_relative_to(STORAGE):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            found += [
                f"{relative(path)}:{node.lineno}: import {name}"
                for name in names
                if name.split(".")[0] in DRIVERS
            ]
    assert not found, "database driver imported outside bot/storage/:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM cases WHERE ref = ?",
        "\n    SELECT id, ref\n    FROM cases",
        "SELECT 1",
        "SELECT COUNT(*) FROM x",
        "INSERT INTO outbox (kind) VALUES (?)",
        "INSERT OR IGNORE INTO reminders (kind) VALUES (?)",
        "REPLACE INTO t VALUES (1)",
        "UPDATE cases SET status = ?",
        "UPDATE {table} SET {column} = ?",
        "DELETE FROM notes WHERE case_id = ?",
        "PRAGMA user_version",
        "PRAGMA journal_mode=WAL",
        "CREATE TABLE t (id INTEGER)",
        "CREATE UNIQUE INDEX i ON t(a)",
        "DROP TABLE t",
        "ALTER TABLE cases ADD COLUMN x TEXT",
        "WITH recent AS (SELECT 1) SELECT * FROM recent",
        "BEGIN",
        "BEGIN IMMEDIATE",
        "COMMIT",
        "ROLLBACK",
        "ROLLBACK TO writer",
        "SAVEPOINT writer",
        "RELEASE writer",
        "VACUUM",
        "ANALYZE",
        "(SELECT id FROM cases)",
    ],
)
def test_sql_is_recognised(text: str) -> None:
    assert is_sql(text)


@pytest.mark.parametrize(
    "text",
    [
        "COMMITTEE_CHAT_ID",
        "COMMITTEE_MEMBER_IDS",
        "Update the card",
        "Updated: the case is now {status}.",
        "Select a date from the calendar",
        "select one from the list",
        "Delete from your phone",
        "BEGINNER",
        "Committed",
        "Begin again",
        "Release notes are here",
        "SELECTED",
        "DROP",
        "Analyze this",
        "Please update your profile: set a new area.",
    ],
)
def test_english_is_not_sql(text: str) -> None:
    assert not is_sql(text)
