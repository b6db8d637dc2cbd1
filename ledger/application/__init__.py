"""The application room of the ledger: load, decide, save — the use cases, by area, on one log.

What callers use, on purpose: the :class:`Ledger`; the :class:`Act` a use case acts under, with its
:class:`CommandKey`; what comes back (:class:`Written`, :class:`WrittenEvent`, :class:`Outcome` of a group,
:class:`HistoryEntry`); :class:`CommandAlreadyRecorded`; and :func:`environment_for`, the library's settings.
"""

from __future__ import annotations

from ledger.application.acts import Act, CommandKey, Written, WrittenEvent
from ledger.application.core import environment_for
from ledger.application.group import Outcome
from ledger.application.history import HistoryEntry
from ledger.application.ledger import Ledger
from ledger.store.recorder import CommandAlreadyRecorded

__all__ = [
    "Act",
    "CommandAlreadyRecorded",
    "CommandKey",
    "HistoryEntry",
    "Ledger",
    "Outcome",
    "Written",
    "WrittenEvent",
    "environment_for",
]
