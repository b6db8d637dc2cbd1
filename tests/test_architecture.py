"""The layering is part of the design: ``api`` → ``projections`` → ``ledger``, checked on every run."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest
from importlinter import configuration
from importlinter.application.use_cases import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_import_layers_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    configuration.configure()
    kept = lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)
    assert kept, "an import breaks the layers (run `make lint` for the details)"


PACKAGES = ("ledger", "projections", "api", "tests", "bench")
LONG = 500  # lines; a longer module says why at its top
DOMAIN_EVENTSOURCING = {"eventsourcing.domain", "eventsourcing.utils"}  # the aggregate base class, topics


def python_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py") if ".venv" not in path.parts)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_domain_takes_only_the_aggregate_base_from_the_event_sourcing_library() -> None:
    """import-linter cannot forbid part of an external package: the domain may build on eventsourcing's aggregates
    but not reach its persistence or application (`ledger.store` and `ledger.application` do that)."""
    reached = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "ledger" / "domain").rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] == "eventsourcing" and module not in DOMAIN_EVENTSOURCING
    }
    assert not reached


def test_no_module_over_500_lines_without_saying_why_at_its_top() -> None:
    """A long module is a room that outgrew its door; one that must stay long says why in its docstring
    ("Over 500 lines: …"), where a newcomer opening it reads first."""
    unexplained = []
    for path in python_files():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > LONG:
            docstring = ast.get_docstring(ast.parse(text)) or ""
            if "Over 500 lines:" not in docstring:
                unexplained.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert not unexplained, "split these, or say why at the top: " + ", ".join(unexplained)


def import_circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm): each is a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in graph.modules:
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return circles


def test_no_import_circles() -> None:
    """A circle makes two modules one room with two doors: neither can be read, tested or moved alone. Imports made
    only for type checking count too: a reader follows them as well."""
    graph = grimp.build_graph("ledger", "projections", "api", include_external_packages=False)
    assert import_circles(graph) == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(module)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    graph.add_import(importer="a.c", imported="a.d")
    assert import_circles(graph) == [["a.b", "a.c"]]
