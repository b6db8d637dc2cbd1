"""Property tests of overall goals (整体绩效目标): any sequence of commands keeps every invariant, and replay rebuilds
the live record (tests/ledger/domain/overall_machine.py)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from ledger.application import Ledger
from tests.ledger.domain.overall_machine import OverallGoalsMachine


def test_random_command_sequences_keep_invariants_and_replay_exactly() -> None:
    run_state_machine_as_test(
        OverallGoalsMachine,
        settings=settings(
            max_examples=300, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )


@pytest.fixture
def stored_machine(ledger: Ledger) -> type[OverallGoalsMachine]:
    class StoredOverallGoalsMachine(OverallGoalsMachine):
        pass

    StoredOverallGoalsMachine.ledger = ledger
    return StoredOverallGoalsMachine


@pytest.mark.db
def test_replay_from_postgresql_rebuilds_the_live_goals(stored_machine: type[OverallGoalsMachine]) -> None:
    """The same machine, saving every event to PostgreSQL; the repository must load the same record."""
    run_state_machine_as_test(
        stored_machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
