"""``spot_checks``: finance's spot checks (不定期核查) of departments' monitoring reports and self-evaluations, one row
each, with the findings, the corrective action a finding ordered and the rectification it required.

A page's ``Project.SpotChecked`` events become rows as they are (nothing later changes one); the project each names
is shown from the read model's own directory of declarations (:mod:`projections.directory`).
"""

from __future__ import annotations

from collections.abc import Sequence

from projections import directory, keyed
from projections.base import Conn, LogEvent, Row

COLUMNS: dict[str, str] = {
    "project_id": "uuid NOT NULL",
    "spot_check_no": "integer NOT NULL",
    "report": "text NOT NULL",  # what was checked: monitoring or self_evaluation
    "month": "integer",  # the monitoring report's month; NULL for a self-evaluation
    "findings": "text[] NOT NULL",
    "corrective_action": "text",  # the corrective action a finding ordered, if any
    "amount": "numeric(14,2)",  # for reduce_budget
    "rectification_no": "integer",  # the rectification it required, if any
    "checked_on": "date NOT NULL",
    "principal_id": "text NOT NULL",
    "reason": "text NOT NULL",
    "evidence": "text[] NOT NULL",
    "position": "bigint NOT NULL",
}
KEY = ["project_id", "spot_check_no"]


class SpotChecks(directory.ProjectRows):
    name = "spot_checks"
    COLUMNS = COLUMNS
    KEY = KEY
    INDEXES = (("checked_on",),)

    def apply_rows(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        keyed.store(
            conn, table, list(COLUMNS), KEY, [row(item) for item in events if item.kind == "Project.SpotChecked"]
        )


def row(item: LogEvent) -> Row:
    e = item.event
    return {
        "project_id": item.originator_id,
        "spot_check_no": e.spot_check_no,
        "report": e.subject,
        "month": e.month,
        "findings": list(e.findings),
        "corrective_action": e.corrective_action,
        "amount": e.amount,
        "rectification_no": e.rectification_no,
        "checked_on": e.effective_on,
        "principal_id": e.principal.id,
        "reason": e.reason,
        "evidence": list(e.evidence),
        "position": item.leaf_index,
    }


def spot_checks(
    conn: Conn, *, organisation: str | None = None, fiscal_year: int | None = None, project_id: object = None
) -> list[Row]:
    """The spot checks recorded, by date (of ``organisation``'s projects — a department's include its units' — of
    ``fiscal_year``, of ``project_id``)."""
    return directory.project_rows(
        conn,
        SpotChecks,
        organisation=organisation,
        fiscal_year=fiscal_year,
        where="(%(project)s::uuid IS NULL OR s.project_id = %(project)s)",
        order_by="s.checked_on, s.position",
        params={"project": project_id},
    )
