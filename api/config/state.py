"""Where the ledger's local state lives (the data folder: the embedded PostgreSQL, the signing key), found the same
way from any working directory, and the error a command meets when that state is not there.

The data folder is ``JIXIAO_DATA_DIR`` when set (an absolute path), else:

- in a checkout of the project (the package imported from a source tree, as ``make run`` installs it), the
  checkout's ``var/``: every ``jixiao`` command and ``make run`` agree on it wherever they are started, and a
  checkout that already holds a ledger keeps it;
- otherwise (an installed package) ``$XDG_DATA_HOME/jixiao``, by default ``~/.local/share/jixiao``: the user's own
  data folder, never the current one. A system service names its folder (the image sets ``/var/lib/jixiao``).

Only the commands that set a ledger up create state (``serve``, ``demo``, ``worker``, ``db migrate``); a command
that reads it (``key show``, ``db url``, ``verify``, …) finds it or says it is missing, creating nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_NAME = 'name = "jixiao-ledger"'


class StateMissing(Exception):
    """A command needs state that is not there (the signing key, the embedded database) and is not one that creates
    it. The message is a person's: Chinese first, English beside, and what to run."""


class StateConflict(StateMissing):
    """The state is there but is not what the command or the settings take it for: a key file where a new one would
    be written, a log recorded under another origin than the settings name. Nothing is changed; the message says
    what to do, in both languages."""


def checkout_root() -> Path | None:
    """The source checkout the package runs from (its ``pyproject.toml`` names this project), or None when it is
    installed as a package."""
    root = Path(__file__).resolve().parents[2]
    try:
        pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return root if PROJECT_NAME in pyproject else None


def default_data_dir() -> Path:
    """The data folder when ``JIXIAO_DATA_DIR`` is not set: the checkout's ``var/``, else the user's XDG data
    folder. Never relative to the current directory."""
    root = checkout_root()
    if root is not None:
        return root / "var"
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"  # the XDG rule
    return base / "jixiao"


def env_files() -> tuple[Path, ...]:
    """The ``.env`` files settings are read from, the later winning: the checkout's, then the current folder's (the
    environment itself wins over both)."""
    root = checkout_root()
    here = Path(".env")
    if root is None or (root / ".env").resolve() == here.resolve():
        return (here,)
    return (root / ".env", here)


def describe_data_dir(data_dir: Path, *, configured: bool) -> str:
    """Where the data folder came from, for a person reading an error."""
    if configured:
        return f"{data_dir}, set by JIXIAO_DATA_DIR or --data-dir"
    if checkout_root() is not None:
        return f"{data_dir}, the checkout's own; set JIXIAO_DATA_DIR for another"
    return f"{data_dir}, the default; set JIXIAO_DATA_DIR for another"


SET_UP_FIRST_ZH = "请先运行 `jixiao serve`（或 `jixiao demo`）建立账本"
SET_UP_FIRST = "run `jixiao serve` (or `jixiao demo`) first to set the ledger up"


def missing_key(path: Path, where: str, *, named: bool) -> StateMissing:
    if named:  # JIXIAO_SIGNING_KEY_FILE names it: never made there (a missing file is a mount or a typo)
        return StateMissing(
            f"未找到签名密钥 {path}（由 JIXIAO_SIGNING_KEY_FILE 指定）：请把已有的密钥放在该处，或更正该设置。\n"
            f"no signing key at {path} (JIXIAO_SIGNING_KEY_FILE names it): put the key you have there, or correct "
            "the setting; a key is never created at a path you chose. Nothing was created."
        )
    return StateMissing(
        f"未找到签名密钥 {path}：{SET_UP_FIRST_ZH}，或以 JIXIAO_SIGNING_KEY_FILE / JIXIAO_SIGNING_KEY 指定已有密钥。\n"
        f"no signing key at {path} (data folder: {where}); {SET_UP_FIRST}, or name the key you have with "
        "JIXIAO_SIGNING_KEY_FILE / JIXIAO_SIGNING_KEY. Nothing was created."
    )


def missing_database(pgdata: Path, where: str) -> StateMissing:
    return StateMissing(
        f"未找到嵌入式数据库 {pgdata}：{SET_UP_FIRST_ZH}，或以 DATABASE_URL 指定数据库。\n"
        f"no embedded PostgreSQL in {pgdata} (data folder: {where}); {SET_UP_FIRST}, or set DATABASE_URL. "
        "Nothing was created."
    )


def missing_ledger_database(pgdata: Path, dbname: str) -> StateMissing:
    return StateMissing(
        f"嵌入式 PostgreSQL（{pgdata}）中没有账本数据库 {dbname}：{SET_UP_FIRST_ZH}。\n"
        f"the embedded PostgreSQL in {pgdata} has no ledger database {dbname!r}; {SET_UP_FIRST}. Nothing was created."
    )


def embedded_not_installed() -> StateMissing:
    return StateMissing(
        "未设置 DATABASE_URL，且本机未安装嵌入式 PostgreSQL：请设置 DATABASE_URL，或安装 jixiao-ledger[embedded]。\n"
        "DATABASE_URL is not set and the embedded PostgreSQL is not installed here: set DATABASE_URL to your "
        "PostgreSQL (>= 14), or `pip install 'jixiao-ledger[embedded]'`."
    )


def key_file_exists(path: Path) -> StateConflict:
    return StateConflict(
        f"签名密钥文件 {path} 已存在，不予覆盖：签名密钥一经使用即为日志身份，更换须经密钥轮换（jixiao key rotate）。"
        f"如需新密钥，请以 --out 另存。\n"
        f"a signing key file is already at {path}; refusing to overwrite it: a key in use is the log's identity, "
        "changed only by a rotation (`jixiao key rotate`). Write a new key elsewhere with --out. Nothing was changed."
    )


def origin_changed(recorded: str, configured: str) -> StateConflict:
    return StateConflict(
        f"本账本的检查点以日志名（origin）{recorded} 签署，而 JIXIAO_LOG_ORIGIN 为 {configured}："
        f"日志名是日志的终身标识，不可更改。请将 JIXIAO_LOG_ORIGIN 改回 {recorded}"
        "（服务地址可另行更改，与日志名无关）。\n"
        f"this ledger's checkpoints are signed under the origin {recorded!r}, but JIXIAO_LOG_ORIGIN is "
        f"{configured!r}: the origin is the log's name for life — auditors, witnesses and every checkpoint already "
        f"handed out name it — so it does not change. Set JIXIAO_LOG_ORIGIN={recorded} again (the service's address "
        "may change freely: the origin is a name, not an address). Nothing was changed."
    )


def key_for_another_origin(path: Path, found: str, origin: str, expected: str) -> StateConflict:
    return StateConflict(
        f"签名密钥文件 {path} 中的密钥名为 {found}，是为另一日志名所建，与 JIXIAO_LOG_ORIGIN={origin}（密钥名应为 "
        f"{expected}）不符：日志名是日志的终身标识，请将 JIXIAO_LOG_ORIGIN 改回建账时的日志名。\n"
        f"the signing key in {path} is named {found!r}: it was made for another origin than JIXIAO_LOG_ORIGIN="
        f"{origin} (whose key would be named {expected!r}). The origin is the log's name for life: set "
        "JIXIAO_LOG_ORIGIN back to the one this ledger started with. Nothing was changed."
    )
