"""The structure in figures: SQL statements by module, import cycles, function-local imports,
the longest functions and the largest modules of bot/ and handlers/, and the fakes' sizes.

Run from the project root: ``.venv/bin/python bench/structure.py`` (or from any checkout of
it, to compare two commits). It reads the source (ast) and prints; it never fails. The same
rules are enforced by tests: no SQL outside bot/storage/ (tests/test_layering.py), no import
cycle and no hidden local import (tests/test_imports.py). It keeps its own copy of the import
graph on purpose: it must measure old checkouts, which have no such test to import.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path.cwd()
PACKAGES = ("bot", "handlers")
SQL = re.compile(
    r"^\s*(SELECT\s.+\sFROM\s|SELECT \d|INSERT (OR \w+ )?INTO|UPDATE \w+ SET|DELETE FROM"
    r"|REPLACE INTO|CREATE (TABLE|INDEX|UNIQUE)|DROP |ALTER TABLE|PRAGMA |WITH \w+ AS"
    r"|BEGIN( IMMEDIATE)?$|COMMIT$|VACUUM|ANALYZE)",
    re.S,
)
Graph = dict[str, set[str]]


def modules() -> dict[str, Path]:
    """Every module of bot/ and handlers/ by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def sql_count(tree: ast.AST) -> int:
    """String constants and f-strings that are SQL statements."""
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            count += bool(SQL.match(node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "x"
                for v in node.values
            )
            count += bool(SQL.match(text))
    return count


def imported(node: ast.Import | ast.ImportFrom, known: set[str]) -> list[str]:
    """What an import depends on: ``from a import b`` is a.b when b is a module, else a."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not node.module:
        return []
    subs = [f"{node.module}.{alias.name}" for alias in node.names]
    return subs if all(s in known for s in subs) else [node.module, *subs]


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative enough)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main() -> None:
    """Print the figures."""
    found = modules()
    known = set(found)
    sql: dict[str, int] = {}
    graph: Graph = {}
    functions: list[tuple[int, str]] = []
    local: list[str] = []
    sizes: list[tuple[int, str]] = []
    for name, path in found.items():
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        where = path.relative_to(ROOT).as_posix()
        sizes.append((len(source.splitlines()), where))
        sql[where] = sql_count(tree)
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                deps.update(d for d in imported(node, known) if d in known and d != name)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                functions.append((node.end_lineno - node.lineno + 1, f"{where}::{node.name}"))
                local += [
                    f"{where}::{node.name}"
                    for sub in ast.walk(node)
                    if isinstance(sub, ast.Import | ast.ImportFrom)
                ]
        graph[name] = deps
    outside = {k: v for k, v in sql.items() if v and not k.startswith("bot/storage/")}
    print(f"SQL statements: {sum(sql.values())} in all, {sum(outside.values())} outside storage")
    for where, count in sorted(outside.items(), key=lambda kv: -kv[1]):
        print(f"  {count:4d} {where}")
    print(f"Import cycles: {len(cycles(graph))} {cycles(graph)}")
    print(f"Function-local imports: {len(local)} in {sorted(set(local))}")
    functions.sort(reverse=True)
    print("Longest functions:", ", ".join(f"{n} {f}" for n, f in functions[:8]))
    over = sum(1 for n, _ in functions if n > 50)
    print(f"Functions over 50 lines: {over} of {len(functions)}")
    sizes.sort(reverse=True)
    print("Largest modules:", ", ".join(f"{n} {f}" for n, f in sizes[:8]))
    fakes = sorted((ROOT / "tests" / "fakes").glob("*.py"))
    print("tests/fakes:", ", ".join(f"{len(p.read_text().splitlines())} {p.name}" for p in fakes))


if __name__ == "__main__":
    main()
