"""The import graph of bot/ and handlers/: no cycle, and no import hidden inside a function.

Both are read from the source (ast), so an import inside a function counts as much as one at
the top: a cycle dodged by a function-local import is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers")

# The only functions allowed to import inside their body, and why.
LOCAL_IMPORTS_ALLOWED = {
    # The command line: each sub-command imports only what it needs, so `python -m bot check`
    # or `migrate` do not load telegram, the handlers and the whole application.
    "bot/__main__.py::_check",
    "bot/__main__.py::_rotate",
    "bot/__main__.py::_purge",
    "bot/__main__.py::main",
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imported(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: set[str]
) -> list[str]:
    """The modules an import statement depends on: ``from a import b`` depends on a.b when b
    is a submodule (a is only its package, initialised first), else on a."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        anchor = parts if is_package else parts[:-1]
        anchor = anchor[: len(anchor) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    submodules = [f"{base}.{alias.name}" for alias in node.names]
    if all(name in modules for name in submodules):
        return submodules
    return [base, *submodules]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                is_package = path.name == "__init__.py"
                imported = _imported(node, name, is_package, set(modules))
                deps.update(t for t in imported if t in modules)
        deps.discard(name)
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _loop(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest chain of imports that leads from the component's first module back to it."""
    start = component[0]
    paths = {w: [start, w] for w in sorted(graph[start]) if w in component}
    while start not in paths:
        paths = {
            w: [*path, w]
            for v, path in sorted(paths.items())
            for w in sorted(graph[v])
            if w in component
        } | paths
    return paths[start]


def _local_imports() -> list[str]:
    """Every ``file::function`` with an import statement in its body."""
    found = []
    for path in _modules().values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = (n for n in ast.walk(node) if n is not node)
                if any(isinstance(n, ast.Import | ast.ImportFrom) for n in inner):
                    found.append(f"{path.relative_to(ROOT).as_posix()}::{node.name}")
    return found


def test_no_import_cycle() -> None:
    graph = _graph()
    cycles = [" -> ".join(_loop(graph, c)) for c in _cycles(graph)]
    assert not cycles, "import cycles: " + "; ".join(cycles)


def test_the_cycle_finder_finds_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _loop(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_no_function_local_import() -> None:
    unexpected = sorted(set(_local_imports()) - LOCAL_IMPORTS_ALLOWED)
    assert not unexpected, "imports inside functions: " + ", ".join(unexpected)


def test_the_allow_list_has_no_stale_entry() -> None:
    stale = sorted(LOCAL_IMPORTS_ALLOWED - set(_local_imports()))
    assert not stale, "allowed but gone, remove from the list: " + ", ".join(stale)
