"""A ledger the ``jixiao`` commands can be run against as processes: a project NY-01 of 2021 among 34 events, a
signed checkpoint over them, and the environment that names it all."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.log.checkpoint import SigningKey
from ledger.store.tlog import TransparencyLog
from tests.conftest import FINANCE, act
from tests.ledger.store.test_log_table import declare, register

ORIGIN = "czj.example.gov.cn/cli-test"


@dataclass
class Signed:
    url: str
    env: dict[str, str]


@pytest.fixture
def signed(ledger: Ledger, database_url: str, tmp_path: Path) -> Signed:
    key = SigningKey.generate(ORIGIN.replace("/", "-"))
    log = TransparencyLog(database_url, origin=ORIGIN, signing_key=key)
    log.create_tables()
    register(ledger)
    declare(ledger, "NY-01")
    for n in range(30):
        ledger.register_department(act(FINANCE, date(2020, 8, 1)), f"部门{n:02}")
    assert log.sign_checkpoint() is not None
    log.close()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JIXIAO_SIGNING_KEY": key.to_string(),
        "JIXIAO_LOG_ORIGIN": ORIGIN,
        "JIXIAO_DATA_DIR": str(tmp_path / "data"),
    }
    return Signed(database_url, env)


def jixiao(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``jixiao ARGS`` as a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )
