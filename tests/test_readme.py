"""The README's "Where things live" map matches the tree: every module of bot/ and handlers/
(and every storage repository) has its line, and every line names something that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY = re.compile(r"^( *)(\S+)\s{2,}\S")


def mapped() -> set[str]:
    """The paths the map names, folders with a trailing slash, relative to the root."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Where things live", 1)[1]
    block = section.split("```\n", 2)[1]
    paths: set[str] = set()
    parents: list[str] = []
    for line in block.splitlines():
        found = ENTRY.match(line)
        assert found, f"not a 'path  description' line in the map: {line!r}"
        depth = len(found.group(1)) // 2
        parents = parents[:depth]
        name = found.group(2)
        path = "".join(parents) + name
        paths.add(path)
        if name.endswith("/"):
            parents.append(name)
    return paths


def test_every_module_has_its_line() -> None:
    modules = {
        p.relative_to(ROOT).as_posix()
        for folder in ("bot", "handlers")
        for p in (ROOT / folder).rglob("*.py")
        if "migrations" not in p.parts
        and not (p.name == "__init__.py" and p.parent.name in ("bot", "storage"))
    }
    missing = sorted(modules - mapped())
    assert not missing, f"add these to the README's 'Where things live': {missing}"


def test_every_line_names_something_that_exists() -> None:
    stale = sorted(path for path in mapped() if not (ROOT / path.rstrip("/")).exists())
    assert not stale, f"the README's map names what is not in the tree: {stale}"
