"""The layering is part of the design: ``api`` → ``projections`` → ``ledger``, checked on every run."""

from __future__ import annotations

import ast
from pathlib import Path

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
    reached = {f"{path.relative_to(ROOT)}: {module}" for path in (ROOT / "ledger" / "domain").rglob("*.py")
               for module in imported_modules(path)
               if module.split(".")[0] == "eventsourcing" and module not in DOMAIN_EVENTSOURCING}
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
