"""Every aggregate the ledger records, in one place: what the topic, trail and read-model tests hold complete.

A new aggregate is added here; ``tests/ledger/domain/test_topics.py`` fails while one that stores topics is missing.
"""

from __future__ import annotations

from typing import Final

from ledger.domain.agencies import Agency
from ledger.domain.base import LedgerAggregate
from ledger.domain.calendar import WorkingCalendar
from ledger.domain.catalogue import IndicatorLibrary, Ruleset
from ledger.domain.congress import CongressSubmission
from ledger.domain.credit_codes import CreditCodeIndex
from ledger.domain.decisions import Decision
from ledger.domain.disclosure import DisclosureDuty
from ledger.domain.draw import ReEvaluationSample
from ledger.domain.findings import AuditFinding
from ledger.domain.log_keys import KeyRotation
from ledger.domain.organisations import Department, Unit
from ledger.domain.overall import OverallGoals
from ledger.domain.project import Project

AGGREGATES: Final[tuple[type[LedgerAggregate], ...]] = (
    Project,
    Department,
    Unit,
    OverallGoals,
    Agency,
    IndicatorLibrary,
    Ruleset,
    ReEvaluationSample,
    Decision,
    CongressSubmission,
    DisclosureDuty,
    KeyRotation,
    WorkingCalendar,
    AuditFinding,
    CreditCodeIndex,
)
