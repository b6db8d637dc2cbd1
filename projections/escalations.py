"""``escalations``: rectifications the scheduler escalated as overdue (整改逾期升级), one row each, and finance's
decision on it — 调减 (reduce) or 收回 (recover), its amount, date and reason — once made.

A page's ``Project.RectificationEscalated`` events open rows and its ``Project.EscalationDecided`` events complete
them (a row an earlier page opened is read first); the project each names is shown from the read model's own
directory of declarations (:mod:`projections.directory`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections import directory, keyed
from projections.base import Conn, LogEvent, Row

COLUMNS: dict[str, str] = {
    "project_id": "uuid NOT NULL",
    "rectification_no": "integer NOT NULL",
    "escalated_on": "date NOT NULL",
    "grace_working_days": "integer NOT NULL",
    "grace_ends": "date NOT NULL",
    "ruleset_version": "integer NOT NULL",
    "decision": "text",  # reduce or recover; NULL: awaiting finance's decision
    "amount": "numeric(14,2)",
    "decided_on": "date",
    "decided_by": "text",
    "decision_reason": "text",
    "position": "bigint NOT NULL",
}
KEY = ["project_id", "rectification_no"]
KINDS = frozenset({"Project.RectificationEscalated", "Project.EscalationDecided"})


class Escalations(directory.ProjectRows):
    name = "escalations"
    COLUMNS = COLUMNS
    KEY = KEY
    INDEXES = (("escalated_on",),)

    def apply_rows(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        relevant = [item for item in events if item.kind in KINDS]
        if not relevant:
            return
        rows: dict[tuple[Any, ...], Row] = keyed.load(
            conn,
            table,
            list(COLUMNS),
            KEY,
            {
                (item.originator_id, item.event.rectification_no)
                for item in relevant
                if item.kind == "Project.EscalationDecided"
            },
        )
        for item in relevant:
            e, ref = item.event, (item.originator_id, item.event.rectification_no)
            if item.kind == "Project.RectificationEscalated":
                rows[ref] = {
                    "project_id": item.originator_id,
                    "rectification_no": e.rectification_no,
                    "escalated_on": e.effective_on,
                    "grace_working_days": e.grace_working_days,
                    "grace_ends": e.grace_ends,
                    "ruleset_version": e.ruleset_version,
                    "decision": None,
                    "amount": None,
                    "decided_on": None,
                    "decided_by": None,
                    "decision_reason": None,
                }
            else:
                rows[ref].update(
                    decision=e.decision,
                    amount=e.amount,
                    decided_on=e.effective_on,
                    decided_by=e.principal.id,
                    decision_reason=e.reason,
                )
            rows[ref]["position"] = item.leaf_index
        keyed.store(conn, table, list(COLUMNS), KEY, rows.values())


def escalations(
    conn: Conn, *, organisation: str | None = None, fiscal_year: int | None = None, undecided: bool = False
) -> list[Row]:
    """The escalations recorded, by date (of ``organisation``'s projects — a department's include its units' — of
    ``fiscal_year``; only those awaiting finance's decision when ``undecided``)."""
    return directory.project_rows(
        conn,
        Escalations,
        organisation=organisation,
        fiscal_year=fiscal_year,
        where="(NOT %(undecided)s OR s.decision IS NULL)",
        order_by="s.escalated_on, s.position",
        params={"undecided": undecided},
    )
