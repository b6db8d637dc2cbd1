"""Property tests: any sequence of commands keeps every invariant, and replay rebuilds the live project."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from ledger.application import Ledger
from tests.ledger.domain.project_machine import ProjectMachine


def test_random_command_sequences_keep_invariants_and_replay_exactly() -> None:
    run_state_machine_as_test(
        ProjectMachine,
        settings=settings(
            max_examples=300, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )


@pytest.fixture
def stored_machine(ledger: Ledger) -> type[ProjectMachine]:
    class StoredProjectMachine(ProjectMachine):
        pass

    StoredProjectMachine.ledger = ledger
    return StoredProjectMachine


@pytest.mark.db
def test_replay_from_postgresql_rebuilds_the_live_project(stored_machine: type[ProjectMachine]) -> None:
    """The same machine, saving every event to PostgreSQL; the repository (snapshots included) must agree."""
    run_state_machine_as_test(
        stored_machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=100,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
