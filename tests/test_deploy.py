"""deploy/ stays true to the code: every command it runs exists, every JIXIAO_ setting it sets is a setting.

No Docker engine or cluster runs here, so this is what can be checked: the files parse, and they name only
what the command line and the settings accept.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from api.cli.main import build_parser
from api.config.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
FILES = [DEPLOY / "compose.yaml", *sorted((DEPLOY / "k8s").glob("*.yaml"))]


def documents() -> list[tuple[Path, Any]]:
    return [(path, document) for path in FILES for document in yaml.safe_load_all(path.read_text()) if document]


def walk(node: Any) -> list[Any]:
    found = [node]
    if isinstance(node, dict):
        for value in node.values():
            found += walk(value)
    elif isinstance(node, list):
        for value in node:
            found += walk(value)
    return found


def jixiao_commands() -> list[list[str]]:
    commands: list[list[str]] = []
    for _, document in documents():
        for node in walk(document):
            if not isinstance(node, dict) or "jixiao-ledger" not in str(node.get("image", "")):
                continue  # PostgreSQL's and NATS's own containers
            for key in ("command", "args"):
                value = node.get(key)
                if isinstance(value, list) and value and value[0] != "sh":
                    commands.append([str(item) for item in value])
                elif isinstance(value, list) and value[:2] == ["sh", "-c"]:
                    commands += [part.split()[1:] for part in value[2].split("&&") if "jixiao" in part]
            entrypoint = node.get("entrypoint")
            if isinstance(entrypoint, list) and entrypoint[:2] == ["sh", "-c"]:
                commands += [part.split()[1:] for part in entrypoint[2].split("&&") if "jixiao" in part]
    return commands


def test_the_files_parse() -> None:
    assert len(documents()) >= 8


@pytest.mark.parametrize("command", jixiao_commands(), ids=" ".join)
def test_every_command_deploy_runs_is_one_the_cli_accepts(command: list[str]) -> None:
    words = [word.replace('"$APP_PASSWORD"', "x").replace("\\", "") for word in command]
    build_parser().parse_args(words)  # exits (SystemExit) on an unknown command or option


def test_every_setting_deploy_sets_is_a_setting() -> None:
    names: set[str] = set()
    for path in [*FILES, DEPLOY / "Dockerfile"]:
        names |= set(re.findall(r"\b(JIXIAO_[A-Z_]+)\b", path.read_text()))
    known = {f"JIXIAO_{name.upper()}" for name in Settings.model_fields}
    assert names, "deploy/ sets no settings at all?"
    assert names <= known, f"not settings: {sorted(names - known)}"
