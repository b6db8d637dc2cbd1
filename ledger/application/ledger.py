"""The ledger application: one ``Ledger``, every use case of the budget-performance cycle on one log.

Composed of the core (:mod:`.core`: the library's hooks, load, decide, save, once per idempotency key) and the
use cases by area — :mod:`.projects`, :mod:`.key_evaluations`, :mod:`.ex_ante`, :mod:`.organisations`,
:mod:`.decisions`, :mod:`.findings`, :mod:`.overall`, :mod:`.congress`, :mod:`.disclosure`, :mod:`.draws`,
:mod:`.catalogue`, :mod:`.sweeps`, the log's own keys (:mod:`.log_keys`) — with the reads of the log itself
(:mod:`.history`). The cache (:mod:`.cache`) and group commit (:mod:`.group`) are classes of their own, which the
core holds.
"""

from __future__ import annotations

from ledger.application.acts import Act
from ledger.application.catalogue import CatalogueUseCases
from ledger.application.congress import CongressUseCases
from ledger.application.core import environment_for
from ledger.application.decisions import DecisionUseCases
from ledger.application.disclosure import DisclosureUseCases
from ledger.application.draws import DrawUseCases
from ledger.application.ex_ante import ExAnteUseCases
from ledger.application.findings import FindingUseCases
from ledger.application.history import HistoryReads
from ledger.application.key_evaluations import KeyEvaluationUseCases
from ledger.application.log_keys import LogKeyUseCases
from ledger.application.organisations import OrganisationUseCases
from ledger.application.overall import OverallUseCases
from ledger.application.projects import ProjectUseCases
from ledger.application.sweeps import SweepUseCases


class Ledger(
    ProjectUseCases,
    KeyEvaluationUseCases,
    ExAnteUseCases,
    DrawUseCases,
    OrganisationUseCases,
    OverallUseCases,
    DecisionUseCases,
    FindingUseCases,
    CongressUseCases,
    DisclosureUseCases,
    CatalogueUseCases,
    SweepUseCases,
    LogKeyUseCases,
    HistoryReads,
):
    """The budget-performance ledger (绩效账本): one event-sourced application holding every aggregate."""

    name = "Ledger"  # the library's name for its tables: ledger_events, ledger_snapshots


# Act and environment_for are imported from here by the benchmarks (bench/), which this change leaves as they are;
# everything else imports them from ledger.application.
__all__ = ["Act", "Ledger", "environment_for"]
