"""``project_status``: one row per project — what the finance bureau filters and ranks by.

Per page of events: the rows of the projects it touches are read once, the events folded into them in memory
(:func:`fold`, a pure function of the row and the event), and the rows written back with one statement — so a
page costs three round trips, not one per event.

Its queries (below the read model) are each one indexed SELECT. Names and codes are filtered by their key
(:func:`ledger.domain.values.key`), kept beside the text as recorded: a filter finds every spelling of what it
names, and shows each as it was given. The list is keyset-paginated on the project's id, so a page costs the same
at the millionth row as at the first, and rows written meanwhile never shift a page.

Over 500 lines: the read model and its queries stay side by side (one room per read model), and its fold is the
one over every project event that changes what the bureau filters by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import sql

from ledger.domain.deadlines import (
    EVALUATION_STEPS,
    evaluation_number,
    meets_monitoring_report,
    supervision_answer_ref,
)
from ledger.domain.organisations import department_ids, unit_id
from ledger.domain.values import key
from projections import keyed, search
from projections.audit_findings import finding_objects
from projections.base import Conn, LogEvent, ReadModel, Row, select_rows
from projections.decisions import decision_objects
from projections.department_overall import overall_objects
from projections.disclosure import disclosure_objects
from projections.ranking import department_units

COLUMNS: dict[str, str] = {
    "project_id": "uuid PRIMARY KEY",
    "code": "text NOT NULL",  # as declared; code_key is what filters compare (ledger.values.key)
    "code_key": "text NOT NULL",
    "name": "text NOT NULL",
    "name_key": "text NOT NULL",  # what a search by part of the name checks (projections.search)
    "name_grams": "text[] NOT NULL",  # and looks up, by its GIN index
    "kind": "text NOT NULL",
    "department": "text NOT NULL",  # as declared; department_key is what filters and scopes compare
    "department_key": "text NOT NULL",
    "unit": "text",  # its budget unit (预算单位) as registered; NULL: the department's own project
    "unit_key": "text",
    "fiscal_year": "integer NOT NULL",
    "budget_book": "text NOT NULL",
    "special_category": "text",
    "new_major": "boolean NOT NULL",
    "stage": "text NOT NULL",
    # 事前绩效评估: who carried out the one that stands (department, finance) and its conclusion; the latest filed
    # report's review status (filed, approved, returned), who filed it and the agency commissioned for it
    "ex_ante_led_by": "text",
    "ex_ante_conclusion": "text",
    "ex_ante_review": "text",
    "ex_ante_filed_by": "text",
    "ex_ante_agency": "text",
    "requested": "numeric(14,2) NOT NULL",
    "approved": "numeric(14,2)",
    "executed": "numeric(14,2) NOT NULL",
    "execution_rate": "numeric(7,2)",
    "latest_month": "integer",
    "latest_deviation": "text",
    "funding_suspended": "boolean NOT NULL",
    "self_score": "numeric(5,2)",
    "self_grade": "text",
    "re_score": "numeric(5,2)",
    "re_grade": "text",
    "inflated": "boolean NOT NULL",
    "key_score": "numeric(5,2)",
    "key_grade": "text",
    "grade": "text",
    "result_decision": "text",
    "open_rectifications": "integer NOT NULL",
    "overdue_rectifications": "integer NOT NULL",
    "goals_disclosed": "boolean NOT NULL",
    "results_disclosed": "boolean NOT NULL",
    # What the disclosures made public (Project.Disclosed's content), all the public reads of the project's goals and
    # results: the state later events give the columns above is not disclosed until it is.
    "disclosed_approved": "numeric(14,2)",  # the approved amount the goals were disclosed with
    "disclosed_goals": "jsonb",  # the indicators and targets disclosed (tree, measure, target, unit, weight)
    "disclosed_results": "jsonb",  # each evaluation's score and grade, the grade and the result decision disclosed
    "disclosed_grade": "text",  # the grade the results disclosed rest on (what the public filters on)
    "rectifications": "jsonb NOT NULL",  # number -> {status, overdue}: what the counts are computed from
    "overdue": "jsonb NOT NULL",  # "kind:ref" -> due date of each obligation missed and not yet met (DeadlineMissed)
    # [evaluation id, total, grade, voided] of each key evaluation scored, in order: key_score and key_grade are the
    # latest not voided (a blacklisting voids a score: the project's grade no longer rests on it)
    "key_scores": "jsonb NOT NULL",
    "overdue_deadlines": "integer NOT NULL",
    "evaluators": "text[] NOT NULL",  # keys of the agencies commissioned for its key evaluations (what they may read)
    "last_changed_at": "timestamptz NOT NULL",
    "version": "integer NOT NULL",
    "position": "bigint NOT NULL",
}
INDEXES = ("department_key", "unit_key", "code_key", "fiscal_year", "budget_book", "stage", "grade", "latest_deviation")

# The project list (GET /projects, :func:`projects` below) filters by equality on department, fiscal year,
# budget book, stage, grade, deviation level and overdue, in project_id order after the last one seen (keyset
# pagination). An index per usual filter shape, its equality columns first and project_id last, lets a page of any
# size read only the rows it returns, however many projects match (flat from 10,000 to 100,000 projects:
# bench_projections); the single-column indexes above serve one filter alone, and the planner combines them for
# rarer shapes.
SHAPE_INDEXES: dict[str, tuple[str, ...]] = {
    "department_year_stage": ("department_key", "fiscal_year", "stage"),  # a department's projects of a year, a stage
    "year_stage": ("fiscal_year", "stage"),
    "grade_deviation": ("grade", "latest_deviation"),  # e.g. well graded yet deviating
}

STAGE_AFTER_RATING = {"优": "goals_approved", "良": "goals_approved", "中": "goals_returned", "差": "goals_refused"}


_CHANGE_AMOUNTS = frozenset(
    (
        "BudgetApproved",
        "MonitoringReported",
        "CorrectiveActionOrdered",
        "SelfEvaluated",
        "SpotChecked",
        "EscalationDecided",
    )
)
_CHANGE_GRADES = frozenset(("SelfEvaluated", "ReEvaluated", "KeyEvaluationScored", "KeyEvaluationVoided"))
_CHANGE_RECTIFICATIONS = frozenset(
    (
        "RectificationRequired",
        "RectificationReported",
        "RectificationAccepted",
        "RectificationRejected",
        "RectificationOverdue",
    )
)


def _rate(executed: Decimal, approved: Decimal | None) -> Decimal | None:
    if not approved:
        return None
    return (executed * 100 / approved).quantize(Decimal("0.01"))


def _counts(row: dict[str, Any]) -> None:
    items = row["rectifications"].values()
    row["open_rectifications"] = sum(1 for item in items if item["status"] != "accepted")
    row["overdue_rectifications"] = sum(1 for item in items if item["status"] != "accepted" and item["overdue"])


# The events that meet (or end) an obligation a DeadlineMissed may have flagged as overdue.
_MEET_DEADLINES = frozenset(
    {
        "DeadlineMissed",
        "GoalsSubmitted",
        "MonitoringReported",
        "SelfEvaluated",
        "CorrectiveActionOrdered",
        "SpotChecked",
        "RectificationAccepted",
        "Closed",
        "ExAnteAssessed",
        "ExAnteReviewed",
        "GoalsReviewed",
        "Disclosed",
        "KeyEvaluationPlanSubmitted",
        "KeyEvaluationPlanReviewed",
        "KeyEvaluationSupervised",
        "KeyEvaluationSupervisionAnswered",
        "KeyEvaluationReportSubmitted",
        "KeyEvaluationReportReviewed",
        "KeyEvaluationVoided",
    }
)


def _meet(overdue: dict[str, str], name: str, e: Any) -> None:
    """Clear what ``e`` met: the late goals, the January–M report (M as the ruleset said when it was filed), the
    self-evaluation, a deviation's answer (its month, or all of them), a rectification; a closure or cancellation ends
    what it ends."""

    def clear(kind: str, ref: object = None) -> None:
        for notice in [item for item in overdue if item.split(":")[0] == kind and ref in (None, item.split(":")[1])]:
            del overdue[notice]

    if name == "GoalsSubmitted":
        clear("goal_submission")
    elif name == "MonitoringReported" and meets_monitoring_report(e.month, e.monitoring_report_month):
        clear("monitoring_report")
    elif name == "SelfEvaluated":  # implementation is over: what was owed during it is no longer owed
        for kind in ("self_evaluation", "monitoring_report", "deviation_answer"):
            clear(kind)
    elif name == "CorrectiveActionOrdered":
        clear("deviation_answer", None if e.deviation_month is None else str(e.deviation_month))
        if e.decision == "cancel":  # implementation ends; rectifications stay owed
            for kind in ("monitoring_report", "self_evaluation", "deviation_answer"):
                clear(kind)
    elif name == "SpotChecked" and e.corrective_action == "cancel":  # implementation ends, as above
        for kind in ("monitoring_report", "self_evaluation", "deviation_answer"):
            clear(kind)
    elif name == "RectificationAccepted":
        clear("rectification", str(e.rectification_no))
    elif name == "Disclosed":
        clear(f"{e.what}_disclosure")
    elif name == "Closed":  # nothing is owed any more but what is owed to the public (closing publishes nothing)
        for notice in [item for item in overdue if not item.split(":")[0].endswith("_disclosure")]:
            del overdue[notice]
    elif name == "ExAnteReviewed":
        clear("ex_ante_review", str(e.filing_no))
        if e.approved and e.conclusion == "reject":
            overdue.clear()
    elif (name == "ExAnteAssessed" and e.conclusion == "reject") or (name == "GoalsReviewed" and e.rating == "差"):
        overdue.clear()  # nothing is owed any more (a rejected project has no rectifications or disclosures yet)
    elif name.startswith("KeyEvaluation"):  # a step of 两审一督导 taken meets its deadline
        n = evaluation_number(e.evaluation_id)
        step = {
            "KeyEvaluationPlanSubmitted": "evaluation_plan",
            "KeyEvaluationPlanReviewed": "evaluation_plan_review",
            "KeyEvaluationSupervised": "supervision",
            "KeyEvaluationReportSubmitted": "evaluation_report",
            "KeyEvaluationReportReviewed": "evaluation_report_review",
        }.get(name)
        if step is not None:
            clear(step, str(n))
        elif name == "KeyEvaluationSupervisionAnswered":
            clear("supervision_answer", str(supervision_answer_ref(n, e.supervision_no)))
        else:  # voided: nothing of it is owed any more
            for notice in list(overdue):
                kind, ref = notice.split(":")[:2]
                if kind in EVALUATION_STEPS and (int(ref) == n or int(ref) // 100 == n):
                    del overdue[notice]


def _corrective(row: dict[str, Any], decision: str, amount: Decimal | None) -> None:
    """A corrective action's effect, whether a deviation's or a spot check's finding ordered it."""
    if decision == "reduce_budget":
        row["approved"] = row["approved"] - amount  # funding stays as it was
    elif decision in ("suspend_funding", "cancel"):
        row["funding_suspended"] = True
    else:  # continue, reallocate
        row["funding_suspended"] = False
    if decision == "cancel":
        row["stage"] = "cancelled"


def fold(row: dict[str, Any] | None, item: LogEvent) -> dict[str, Any] | None:
    """The row after one event (``row`` is None before the project is declared)."""
    kind = item.kind
    if not kind.startswith("Project."):
        return row
    e = item.event
    name = kind.removeprefix("Project.")
    if name == "Declared":
        row = {
            "project_id": item.originator_id,
            "code": e.code,
            "code_key": key(e.code),
            "name": e.name,
            "name_key": key(e.name),
            "name_grams": search.grams(e.name),
            "kind": e.kind,
            "department": e.department,
            "department_key": key(e.department),
            "unit": e.unit,
            "unit_key": None if e.unit is None else key(e.unit),
            "fiscal_year": e.fiscal_year,
            "budget_book": e.budget_book,
            "special_category": e.special_category,
            "new_major": e.new_major,
            "stage": "declared",
            "ex_ante_led_by": None,
            "ex_ante_conclusion": None,
            "ex_ante_review": None,
            "ex_ante_filed_by": None,
            "ex_ante_agency": None,
            "requested": e.requested,
            "approved": None,
            "executed": Decimal("0.00"),
            "execution_rate": None,
            "latest_month": None,
            "latest_deviation": None,
            "funding_suspended": False,
            "self_score": None,
            "self_grade": None,
            "re_score": None,
            "re_grade": None,
            "inflated": False,
            "key_score": None,
            "key_grade": None,
            "grade": None,
            "result_decision": None,
            "open_rectifications": 0,
            "overdue_rectifications": 0,
            "goals_disclosed": False,
            "results_disclosed": False,
            "disclosed_approved": None,
            "disclosed_goals": None,
            "disclosed_results": None,
            "disclosed_grade": None,
            "rectifications": {},
            "overdue": {},
            "overdue_deadlines": 0,
            "evaluators": [],
            "key_scores": [],
        }
    assert row is not None, f"{kind} before Project.Declared at leaf {item.leaf_index}"
    if name == "ExAnteAssessed":
        row["ex_ante_led_by"], row["ex_ante_conclusion"] = "finance", e.conclusion
        if e.conclusion == "reject":
            row["stage"] = "rejected"
    elif name == "ExAnteAgencyCommissioned":
        row["ex_ante_agency"] = e.agency_name
    elif name == "ExAnteFiled":
        row["ex_ante_review"], row["ex_ante_filed_by"] = "filed", e.principal.organisation
    elif name == "ExAnteReviewed":
        row["ex_ante_review"] = "approved" if e.approved else "returned"
        if e.approved:
            row["ex_ante_led_by"], row["ex_ante_conclusion"] = "department", e.conclusion
            if e.conclusion == "reject":
                row["stage"] = "rejected"
    elif name == "Admitted":
        row["stage"] = "admitted"
    elif name == "GoalsSubmitted":
        row["stage"] = "goals_submitted"
    elif name == "GoalsReviewed":
        row["stage"] = STAGE_AFTER_RATING[e.rating]
    elif name == "BudgetApproved":
        row["approved"] = e.amount
        row["stage"] = "budget_approved"
    elif name == "MonitoringReported":
        row["executed"] = e.executed
        row["latest_month"] = e.month
    elif name == "DeviationDetected":
        row["latest_deviation"] = e.level
    elif name == "CorrectiveActionOrdered":
        _corrective(row, e.decision, e.amount)
    elif name == "SpotChecked" and e.corrective_action is not None:  # a finding's corrective action
        _corrective(row, e.corrective_action, e.amount)
    elif name == "EscalationDecided":  # 调减 or 收回: recovered funds spent are paid back
        row["approved"] = row["approved"] - e.amount
        if e.decision == "recover":
            row["executed"] = min(row["executed"], row["approved"])
        row["rectifications"][str(e.rectification_no)]["escalation"] = e.decision
    elif name == "RectificationEscalated":
        row["rectifications"][str(e.rectification_no)]["escalation"] = "pending"
    elif name == "FundingSuspended":
        row["funding_suspended"] = True
    elif name == "SelfEvaluated":
        row["executed"] = e.executed
        row["self_score"], row["self_grade"] = e.total, e.grade
        row["stage"] = "self_evaluated"
    elif name == "ReEvaluated":
        row["re_score"], row["re_grade"] = e.total, e.grade
        row["inflated"] = row["inflated"] or e.inflated
    elif name in ("KeyEvaluationCommissioned", "ReEvaluationCommissioned") and e.agency_name is not None:
        if key(e.agency_name) not in row["evaluators"]:
            row["evaluators"] = [*row["evaluators"], key(e.agency_name)]
    elif name == "KeyEvaluationScored":
        row["key_scores"] = [*row["key_scores"], [e.evaluation_id, str(e.total), e.grade, False]]
        row["key_score"], row["key_grade"] = e.total, e.grade
        row["inflated"] = row["inflated"] or e.inflated
    elif name == "KeyEvaluationVoided":
        row["key_scores"] = [[*item[:3], item[3] or item[0] == e.evaluation_id] for item in row["key_scores"]]
        standing = [item for item in row["key_scores"] if not item[3]]
        row["key_score"] = Decimal(standing[-1][1]) if standing else None
        row["key_grade"] = standing[-1][2] if standing else None
    elif name == "ResultsApplied":
        row["result_decision"] = e.decision
        row["stage"] = "results_applied"
    elif name == "RectificationRequired":
        row["rectifications"][str(e.rectification_no)] = {"status": "open", "overdue": False}
    elif name in ("RectificationReported", "RectificationAccepted", "RectificationRejected"):
        status = {
            "RectificationReported": "reported",
            "RectificationAccepted": "accepted",
            "RectificationRejected": "open",
        }[name]
        row["rectifications"][str(e.rectification_no)]["status"] = status
    elif name == "RectificationOverdue":
        row["rectifications"][str(e.rectification_no)]["overdue"] = True
    elif name == "Disclosed":
        row["goals_disclosed" if e.what == "goals" else "results_disclosed"] = True
        _disclosed(row, e.what, e.content)
    elif name == "Closed":
        row["stage"] = "closed"
    elif name == "DeadlineMissed":
        row["overdue"][f"{e.deadline}:{e.ref}"] = str(e.due_on)
    if name in _MEET_DEADLINES:
        _meet(row["overdue"], name, e)
        row["overdue_deadlines"] = len(row["overdue"])
    # Derived columns, recomputed only after the events that change what they derive from.
    if name in _CHANGE_AMOUNTS:
        row["execution_rate"] = _rate(row["executed"], row["approved"])
    if name in _CHANGE_GRADES:
        row["grade"] = row["key_grade"] or row["re_grade"] or row["self_grade"]
    if name in _CHANGE_RECTIFICATIONS:
        _counts(row)
    row["last_changed_at"] = item.recorded_at
    row["version"] = item.version
    row["position"] = item.leaf_index
    return row


def _disclosed(row: Row, what: str, content: dict[str, Any] | None) -> None:
    """Keep what a disclosure made public beside the live columns. A disclosure recorded before disclosures said
    what they published (no ``content``) published the row as it then stood, as the public read it then."""
    if what == "goals":
        if content is None:
            row["disclosed_approved"] = row["approved"]
            return
        amount = content.get("approved_amount")
        row["disclosed_approved"] = None if amount is None else Decimal(amount)
        row["disclosed_goals"] = content["indicators"]
        return
    if content is None:
        score = row["self_score"]
        self_evaluation = None if score is None else {"total": str(score), "grade": row["self_grade"]}
        content = {"self_evaluation": self_evaluation, "grade": row["grade"], "decision": row["result_decision"]}
    row.update(disclosed_results=content, disclosed_grade=content.get("grade"))


class ProjectStatus(ReadModel):
    name = "project_status"
    # 2: overdue deadlines (DeadlineMissed); 3: keys of the department and code, the evaluators; 4: unit;
    # 5: the name's key and grams (search by part of the name); 6: disclosures owed stay overdue after closing,
    # until disclosed; 7: the ex-ante assessment (who led it, its conclusion, the filed report's review); 8: what the
    # disclosures made public, which the public reads; 9: a voided key evaluation's score no longer shown, and the
    # 两审一督导 steps met; 10: a spot check's corrective action, an escalation's 调减 or 收回
    version = 10

    def create(self, conn: Conn, table: str) -> None:
        columns = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in COLUMNS.items())
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(sql.Identifier(table), columns))
        for column in INDEXES:
            conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({}, project_id)").format(
                    sql.Identifier(f"{table}_{column}_idx"), sql.Identifier(table), sql.Identifier(column)
                )
            )
        for name, shape in SHAPE_INDEXES.items():
            conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({}, project_id)").format(
                    sql.Identifier(f"{table}_{name}_idx"),
                    sql.Identifier(table),
                    sql.SQL(", ").join(map(sql.Identifier, shape)),
                )
            )
        conn.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {} ON {} (project_id) "
                "WHERE overdue_deadlines > 0 OR overdue_rectifications > 0"
            ).format(sql.Identifier(f"{table}_overdue_idx"), sql.Identifier(table))
        )
        for column in ("evaluators", "name_grams"):
            conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gin ({})").format(
                    sql.Identifier(f"{table}_{column}_idx"), sql.Identifier(table), sql.Identifier(column)
                )
            )

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        project_events = [item for item in events if item.kind.startswith("Project.")]
        if not project_events:
            return
        columns = list(COLUMNS)
        ids = {item.originator_id.int: (item.originator_id,) for item in project_events}  # UUIDs hash in Python
        loaded = keyed.load(conn, table, columns, ["project_id"], ids.values())
        rows = {key[0].int: row for key, row in loaded.items()}  # by the id's int: UUID hashes in Python
        for item in project_events:
            pid = item.originator_id.int
            folded = fold(rows.get(pid), item)
            assert folded is not None
            rows[pid] = folded
        keyed.store(conn, table, columns, ["project_id"], rows.values())


# ------------------------------------------------------------------------------------------------------ queries

STATUS_COLUMNS = (
    "project_id",
    "code",
    "name",
    "kind",
    "department",
    "unit",
    "fiscal_year",
    "budget_book",
    "special_category",
    "new_major",
    "stage",
    "ex_ante_led_by",
    "ex_ante_conclusion",
    "ex_ante_review",
    "ex_ante_filed_by",
    "ex_ante_agency",
    "requested",
    "approved",
    "executed",
    "execution_rate",
    "latest_month",
    "latest_deviation",
    "funding_suspended",
    "self_score",
    "self_grade",
    "re_score",
    "re_grade",
    "inflated",
    "key_score",
    "key_grade",
    "grade",
    "result_decision",
    "open_rectifications",
    "overdue_rectifications",
    "overdue",
    "overdue_deadlines",
    "goals_disclosed",
    "results_disclosed",
    "disclosed_approved",
    "disclosed_goals",
    "disclosed_results",
    "disclosed_grade",
    "last_changed_at",
    "version",
    "position",
)


@dataclass(frozen=True)
class ProjectFilter:
    department: str | None = None  # a department's projects (its units' too), or a budget unit's: see owner_column
    fiscal_year: int | None = None
    budget_book: str | None = None
    stage: str | None = None
    grade: str | None = None
    deviation: str | None = None
    overdue: bool | None = None
    code: str | None = None
    name_contains: str | None = None  # a part of the name, in any spelling (projections.search)
    # What the public may see: projects with goals or results disclosed, and a grade only as the results disclosed it.
    disclosed_only: bool = False


def projects(conn: Conn, where: ProjectFilter, *, after: UUID | None, limit: int) -> list[Row]:
    """``project_status`` rows matching ``where``, in project-id order, after the cursor."""
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    owner = None if where.department is None else key(where.department)
    for column, value in (
        (owner_column(conn, owner), owner),
        ("fiscal_year", where.fiscal_year),
        ("budget_book", where.budget_book),
        ("stage", where.stage),
        ("disclosed_grade" if where.disclosed_only else "grade", where.grade),  # the public: the grade disclosed
        ("latest_deviation", where.deviation),
        ("code_key", None if where.code is None else key(where.code)),
    ):
        if value is not None:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    if where.overdue is not None:
        any_overdue = "(overdue_deadlines > 0 OR overdue_rectifications > 0)"
        conditions.append(sql.SQL(any_overdue if where.overdue else f"NOT {any_overdue}"))
    if where.name_contains is not None:
        folded = key(where.name_contains)
        conditions.append(search.contains("name_grams", "name_key"))
        params += [search.query_grams(folded), folded]
    if where.disclosed_only:
        conditions.append(sql.SQL("(goals_disclosed OR results_disclosed)"))
        if where.grade is not None:
            conditions.append(sql.SQL("results_disclosed"))
    if after is not None:
        conditions.append(sql.SQL("project_id > %s"))
        params.append(after)
    clause = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    query = sql.SQL("SELECT {} FROM {}{} ORDER BY project_id LIMIT %s").format(
        sql.SQL(", ").join(map(sql.Identifier, STATUS_COLUMNS)), sql.Identifier(ProjectStatus.name), clause
    )
    return select_rows(conn, query, [*params, limit])


def owner_column(conn: Conn, organisation_key: str | None) -> str:
    """The column that finds the projects of the organisation named by ``organisation_key``: ``unit_key`` if it is a
    budget unit's, else ``department_key`` (a department's projects include its units').

    A name is a department's or a unit's, never both (the ledger refuses to register one under the other's name), so a
    name with a unit's projects is a unit's. One indexed look-up; the list's filter then stays an equality the keyset
    indexes serve, where ``department_key = k OR unit_key = k`` would read and sort every matching row for each page.
    """
    if organisation_key is None:
        return "department_key"
    found = conn.execute(
        sql.SQL("SELECT 1 FROM {} WHERE unit_key = %s LIMIT 1").format(sql.Identifier(ProjectStatus.name)),
        (organisation_key,),
    ).fetchone()
    return "department_key" if found is None else "unit_key"


def belongs_to(row: Row, organisation: str) -> bool:
    """Whether a project's row (:data:`STATUS_COLUMNS`) is ``organisation``'s: its department's or its unit's."""
    return key(organisation) in (key(row["department"]), None if row["unit"] is None else key(row["unit"]))


def project(conn: Conn, project_id: UUID) -> Row | None:
    rows = select_rows(
        conn,
        sql.SQL("SELECT {} FROM {} WHERE project_id = %s").format(
            sql.SQL(", ").join(map(sql.Identifier, STATUS_COLUMNS)), sql.Identifier(ProjectStatus.name)
        ),
        [project_id],
    )
    return rows[0] if rows else None


def department_objects(conn: Conn, organisation: str) -> tuple[UUID, ...]:
    """The objects a department owns — its projects (its units' included), its own record and its units', the
    decisions about it and its units, its overall goals and its units' and their disclosure, the audit findings it
    owes a response to — or a budget unit owns: its projects, its own record, the decisions about it, its overall goals
    and their disclosure, its findings (however the name is spelled)."""
    rows = conn.execute(
        sql.SQL("SELECT project_id FROM {} WHERE department_key = %(key)s OR unit_key = %(key)s").format(
            sql.Identifier(ProjectStatus.name)
        ),
        {"key": key(organisation)},
    ).fetchall()
    return (
        *department_ids(organisation),
        unit_id(organisation),
        *department_units(conn, organisation),
        *(row[0] for row in rows),
        *decision_objects(conn, organisation),
        *disclosure_objects(conn, organisation),
        *overall_objects(conn, organisation),
        *finding_objects(conn, organisation),
    )


def commissioned_projects(conn: Conn, agency: str) -> tuple[UUID, ...]:
    """The projects with a key evaluation commissioned to ``agency`` (however its name is spelled)."""
    rows = conn.execute(
        sql.SQL("SELECT project_id FROM {} WHERE evaluators @> ARRAY[%s]::text[]").format(
            sql.Identifier(ProjectStatus.name)
        ),
        (key(agency),),
    ).fetchall()
    return tuple(row[0] for row in rows)


STAGE_COUNTS = sql.SQL(
    "SELECT stage, count(*) AS projects, count(*) FILTER (WHERE latest_deviation = 'red') AS red, "
    "count(*) FILTER (WHERE latest_deviation = 'yellow') AS yellow, "
    "count(*) FILTER (WHERE overdue_deadlines > 0 OR overdue_rectifications > 0) AS overdue "
    "FROM {} WHERE fiscal_year = %s GROUP BY stage ORDER BY stage"
).format(sql.Identifier(ProjectStatus.name))


def stage_counts(conn: Conn, fiscal_year: int) -> list[Row]:
    """The year at a glance (全年概览): per stage, its projects, how many carry a red or a yellow deviation and how
    many have something overdue (the console's finance home)."""
    return select_rows(conn, STAGE_COUNTS, [fiscal_year])
