"""What every read model has in common, and the events they read.

A read model is a PostgreSQL table kept as a function of the log. It applies a whole page of events in one
transaction together with its tracking position (exactly-once: the rows and the position commit or roll back
together), so catching up runs at the speed of SQL batches, not one transaction per event. It is also an
eventsourcing ``Projection`` (one event per transaction): its view is a :class:`ReadModelView`, which
:mod:`projections.tracking` implements (that module imports this one, never the other way round).
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from psycopg import sql
from psycopg.rows import dict_row

from ledger.store.transcodings import ledger_transcoder

Conn = psycopg.Connection[tuple[Any, ...]]
Row = dict[str, Any]  # a read model's row by column name

_QUERIES: dict[tuple[Any, ...], bytes] = {}


def composed(conn: Conn, key: tuple[Any, ...], build: Callable[[], sql.Composable]) -> bytes:
    """The statement ``build()`` composes, as the bytes sent to the server, composed once per ``key`` (which must
    name everything ``build`` depends on). Composing psycopg's sql objects (quoting every identifier) cost a read
    model more client time per page than executing some of its statements."""
    query = _QUERIES.get(key)
    if query is None:
        query = _QUERIES[key] = build().as_bytes(conn)
    return query


def select_rows(conn: Conn, query: sql.Composed | sql.SQL, params: Sequence[Any] | dict[str, Any]) -> list[Row]:
    """The rows a query of a read model answers, each by column name (what the API serialises)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return list(cur.execute(query, params).fetchall())


class LogEvent:
    """One event as a read model sees it: its position and recording time, and its fields (read-only).

    A plain class with slots rather than a frozen dataclass: a page builds thousands, and a frozen dataclass's
    ``__init__`` (one ``object.__setattr__`` per field) cost more than decoding the event's JSON.
    """

    __slots__ = ("event", "kind", "leaf_index", "originator_id", "recorded_at", "topic", "version")

    def __init__(
        self,
        leaf_index: int,
        recorded_at: datetime,
        originator_id: UUID,
        version: int,
        topic: str,
        event: Any,
        kind: str | None = None,
    ) -> None:
        self.leaf_index = leaf_index
        self.recorded_at = recorded_at
        self.originator_id = originator_id
        self.version = version
        self.topic = topic
        self.event = event  # its fields by name: EventFields of its stored JSON (the runner), or the domain event
        self.kind = kind or topic.rsplit(":", 1)[-1]  # ``Aggregate.Event``, e.g. ``Project.GoalsReviewed``

    def __repr__(self) -> str:
        return f"LogEvent({self.leaf_index}, {self.kind}, {self.originator_id}, v{self.version})"


class _Decoded:
    """The transcoded field ``<name>_`` of :class:`EventFields` as the application decodes it (a Decimal, a date)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.stored = f"{name}_"

    def __get__(self, fields: object, owner: type | None = None) -> Any:
        return decoded(getattr(fields, self.stored))


class EventFields(msgspec.Struct, gc=False):
    """The fields of an event that the read models read, and only those, decoded from its stored JSON.

    msgspec's decoder builds only the keys declared here and skips every other one without building it (the goals'
    indicator trees, the monitoring details, the scores): a page decodes about four times faster than the stdlib
    ``json`` module building whole objects. A key an event does not have reads as None; a field read models do not
    declare here does not exist (AttributeError), so adding a read of a new field means declaring it below (the
    tests compare every declared field with the application's own decoding, for every kind of event).

    Values are as the stdlib would decode them (``Any``: str, int, bool, None, list, dict); the fields that hold a
    transcoded value in the log (``{"_type_": …, "_data_": …}``, see :mod:`ledger.transcodings`) are read through a
    property that decodes it with that same transcoding, so ``fields.amount`` is the Decimal and ``fields.due_on``
    the date the domain event has. ``effective_on`` comes from the log row's own column (the recorder copies it
    there from this same JSON), so the decoder skips it.

    Instances are not tracked by the cyclic garbage collector (``gc=False``): decoded JSON cannot form cycles.
    """

    # The log row's effective_on column, set by the runner: under a JSON key no event has, so the decoder skips it.
    effective_on: Any = msgspec.field(default=None, name="(effective_on: the log row's column)")
    reason: Any = None
    # Project.Declared (and the facts the aggregate read models keep)
    code: Any = None
    name: Any = None  # also Department.Registered, Unit.Registered, Agency.Registered
    kind: Any = None  # also Agency.MisconductRecorded
    department: Any = None  # also Unit.Registered
    unit: Any = None  # absent from declarations recorded before units: None, as the upcast domain event has it
    fiscal_year: Any = None  # also Department.OverallGoalsSet, Department.ComprehensivelyAssessed
    budget_book: Any = None
    special_category: Any = None
    new_major: Any = None
    # the project's life
    conclusion: Any = None
    rating: Any = None
    month: Any = None
    level: Any = None
    decision: Any = None
    deviation_month: Any = None
    grade: Any = None
    inflated: Any = None
    rectification_no: Any = None
    what: Any = None
    ref: Any = None
    monitoring_report_month: Any = None  # Project.MonitoringReported: the ruleset's January–M report then
    override: Any = None  # Project.BudgetApproved: finance approved beyond the earlier result (absent before: None)
    filing_no: Any = None  # Project.ExAnteFiled, ExAnteReviewed
    approved: Any = None  # Project.ExAnteReviewed, the key evaluation's plan and report reviews
    # the rulesets
    parameters: Any = None
    ruleset_version: Any = None  # also the project's decisions
    # agencies and the blacklist
    agency_name: Any = None  # Project.KeyEvaluationCommissioned, Project.ReEvaluationCommissioned
    evaluation_id: Any = None  # Project.ReEvaluationCommissioned, Project.KeyEvaluationScored
    misconduct_no: Any = None
    description: Any = None
    misconduct_nos: Any = None
    blacklisting_no: Any = None
    public: Any = None
    credit_code: Any = None  # Agency.Registered (absent before codes: None), Agency.CreditCodeRecorded
    qualification: Any = None  # Agency.QualificationChanged
    # 两审一督导 of a key evaluation (the deadlines read model): the step's evaluation (evaluation_id above) and what
    # falls due next
    supervision_no: Any = None
    findings: Any = None  # a supervision's, a spot check's, an audit finding's
    # finance's decisions (通报, 表彰, 约谈): also kind, department, fiscal_year, deadline, ref, due_on above
    subject: Any = None
    subject_kind: Any = None
    basis: Any = None
    # disclosure (信息公开): Project.Disclosed, DisclosureDuty, CongressSubmission.Submitted (absent before: None)
    content: Any = None  # plain JSON: what the disclosure made public
    late: Any = None
    organisation: Any = None  # DisclosureDuty.Opened, OverallGoals.Submitted
    # overall goals and their evaluation (部门和单位整体绩效): also kind, department, fiscal_year, rating, grade, basis,
    # decision, inflated, agency_name and override above
    evaluation_no: Any = None  # OverallGoals.Evaluation*, ResultsApplied
    procedure: Any = None  # OverallGoals.EvaluationCommissioned (absent before 两审一督导 in full: None, as upcast)
    was_scored: Any = None  # OverallGoals.EvaluationVoided
    next_fiscal_year: Any = None  # OverallGoals.ControlFigureAdjusted
    # spot checks (不定期核查) and escalations (整改逾期升级): also subject, month, decision, rectification_no above
    evidence: Any = None  # every event: the SHA-256 digests it cites
    # the typed ones among them, {digest, type, name}: absent from most events, read as none (as the domain event does)
    documents: Any = msgspec.field(default_factory=list)
    spot_check_no: Any = None  # Project.SpotChecked (findings above)
    corrective_action: Any = None
    grace_working_days: Any = None  # Project.RectificationEscalated
    # audit findings (审计发现): also subject, subject_kind, department, findings, subject_id above
    responder_kind: Any = None  # AuditFinding.Recorded
    responder: Any = None
    reference: Any = None
    response: Any = None  # AuditFinding.Responded
    # transcoded in the log: read decoded through the attributes below
    requested_: Any = msgspec.field(default=None, name="requested")
    amount_: Any = msgspec.field(default=None, name="amount")
    executed_: Any = msgspec.field(default=None, name="executed")
    total_: Any = msgspec.field(default=None, name="total")
    deadline_: Any = msgspec.field(default=None, name="deadline")  # a name (notices) or a date (rectifications)
    due_on_: Any = msgspec.field(default=None, name="due_on")
    respond_by_: Any = msgspec.field(default=None, name="respond_by")
    review_due_: Any = msgspec.field(default=None, name="review_due")  # Project.ExAnteFiled, KeyEvaluation*
    start_: Any = msgspec.field(default=None, name="start")
    until_: Any = msgspec.field(default=None, name="until")
    department_id_: Any = msgspec.field(default=None, name="department_id")  # Unit.Registered
    continues_: Any = msgspec.field(default=None, name="continues")  # Project.Declared (absent before: None)
    linkage_: Any = msgspec.field(default=None, name="linkage")  # Project.BudgetApproved (absent before: None)
    next_year_budget_: Any = msgspec.field(default=None, name="next_year_budget")  # Project.ResultsApplied
    subject_id_: Any = msgspec.field(default=None, name="subject_id")  # Decision.Recorded
    project_id_: Any = msgspec.field(default=None, name="project_id")  # Decision.Recorded
    rectification_due_: Any = msgspec.field(default=None, name="rectification_due")  # Decision.Recorded
    principal_: Any = msgspec.field(default=None, name="principal")  # who acted (the disclosure read model)
    goals_disclosure_due_: Any = msgspec.field(default=None, name="goals_disclosure_due")  # Project.BudgetApproved
    results_disclosure_due_: Any = msgspec.field(default=None, name="results_disclosure_due")  # ResultsApplied
    submission_id_: Any = msgspec.field(default=None, name="submission_id")  # DisclosureDuty.Fulfilled
    projects_: Any = msgspec.field(default=None, name="projects")  # CongressSubmission.Submitted
    # OverallGoals.ControlFigureAdjusted (and amount, total above; ReEvaluationSample.Drawn's rate is plain text)
    control_figure_: Any = msgspec.field(default=None, name="control_figure")
    default_rate_: Any = msgspec.field(default=None, name="default_rate")
    rate_: Any = msgspec.field(default=None, name="rate")
    next_control_figure_: Any = msgspec.field(default=None, name="next_control_figure")
    plan_due_: Any = msgspec.field(default=None, name="plan_due")  # Project.KeyEvaluation*: absent before, None
    supervision_due_: Any = msgspec.field(default=None, name="supervision_due")
    report_due_: Any = msgspec.field(default=None, name="report_due")
    answer_due_: Any = msgspec.field(default=None, name="answer_due")
    grace_ends_: Any = msgspec.field(default=None, name="grace_ends")  # Project.RectificationEscalated
    response_due_: Any = msgspec.field(default=None, name="response_due")  # AuditFinding.Recorded

    requested = _Decoded()
    amount = _Decoded()
    executed = _Decoded()
    total = _Decoded()
    deadline = _Decoded()
    due_on = _Decoded()
    respond_by = _Decoded()
    review_due = _Decoded()
    start = _Decoded()
    until = _Decoded()
    department_id = _Decoded()
    continues = _Decoded()
    linkage = _Decoded()
    next_year_budget = _Decoded()
    subject_id = _Decoded()
    project_id = _Decoded()
    rectification_due = _Decoded()
    principal = _Decoded()
    goals_disclosure_due = _Decoded()
    results_disclosure_due = _Decoded()
    submission_id = _Decoded()
    projects = _Decoded()
    control_figure = _Decoded()
    default_rate = _Decoded()
    rate = _Decoded()
    next_control_figure = _Decoded()
    plan_due = _Decoded()
    supervision_due = _Decoded()
    report_due = _Decoded()
    answer_due = _Decoded()
    grace_ends = _Decoded()
    response_due = _Decoded()


decode_fields = msgspec.json.Decoder(EventFields).decode
"""An event's :class:`EventFields` from its stored JSON (bytes)."""


_KINDS: dict[str, str] = {}  # topic -> kind: a few dozen topics, millions of events


def log_events(rows: Sequence[tuple[Any, ...]]) -> list[LogEvent]:
    """Log rows (leaf index, recorded at, originator id and version, topic, state, effective_on) as events."""
    events = []
    kinds = _KINDS
    for index, recorded, oid, version, topic, state, effective_on in rows:
        fields = decode_fields(state)
        fields.effective_on = effective_on
        kind = kinds.get(topic)
        if kind is None:
            kind = kinds[topic] = topic.rsplit(":", 1)[-1]
        events.append(LogEvent(index, recorded, oid, version, topic, fields, kind))
    return events


_TRANSCODINGS = ledger_transcoder().names
_SCALARS = frozenset((str, int, float, bool, type(None)))


def decoded(value: Any) -> Any:
    """A stored JSON value as the application's transcoder decodes it (innermost transcodings first)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dict):
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return _TRANSCODINGS[value["_type_"]].decode(decoded(value["_data_"]))
        return {key: decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decoded(item) for item in value]
    return value


class ReadModelView(TrackingRecorder):
    """What a read model's eventsourcing view does: apply one event together with the read model's position, in one
    transaction. :class:`projections.tracking.LeafTracking` is the one there is (tracked by the log's leaf index)."""

    @abstractmethod
    def process(self, model: ReadModel, domain_event: Any, tracking: Tracking) -> bool:
        """Apply ``domain_event``, the log's leaf ``tracking.notification_id``, to ``model`` in one transaction with
        its position; False if that leaf was already applied (nothing is done)."""


class ReadModel(Projection[ReadModelView]):
    """A table (or a few) maintained from the log. ``table`` names the live table; rebuilds use another name.

    Also an eventsourcing ``Projection``: with a :class:`~projections.tracking.LeafTracking` as its view,
    ``process_event(domain_event, tracking)`` applies one event in one transaction with its position. The
    :class:`~projections.runner.Runner` drives it the fast way: ``apply``, a page of events per transaction.
    """

    name: str
    # The shape of its tables and what they mean. Raise it when either changes: the runner then drops the old
    # tables and rebuilds them from the log on its next start (a read model is always a function of the log).
    version: int = 1
    # Whether ``apply`` reads the events' fields. A read model that PostgreSQL builds from the log's own rows (the
    # trail) says False and implements ``apply_range``: the runner then reads and decodes nothing for it, and
    # applies it in a transaction of its own, on a connection of its own, while Python folds the others.
    reads_events: bool = True
    # Which of the lanes of event-reading models it is applied in: each lane applies the pages (read and decoded once
    # for all lanes) on a connection of its own, so one lane's wait for PostgreSQL overlaps another's folding.
    lane: int = 0

    @abstractmethod
    def create(self, conn: Conn, table: str) -> None:
        """Create the table(s) if missing."""

    @abstractmethod
    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        """Apply a page of events, in log order, inside the caller's transaction."""

    def __init__(self, view: ReadModelView | None = None) -> None:
        if view is not None:
            super().__init__(view)

    @property
    def view(self) -> ReadModelView:
        """The tracking recorder ``process_event`` records this read model's position with."""
        view: ReadModelView | None = self.__dict__.get("_view")
        if view is None:
            raise RuntimeError(f"{self.name} has no view: construct it with a LeafTracking to process single events")
        return view

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """eventsourcing's Projection: apply one domain event, the log's leaf ``tracking.notification_id``, in one
        transaction with this read model's position; an event already applied is skipped (exactly once)."""
        self.view.process(self, domain_event, tracking)

    def apply_range(self, conn: Conn, table: str, first: int, last: int) -> None:
        """Apply the events from leaf ``first`` to leaf ``last`` (both included) from the log's rows alone, inside the
        caller's transaction: for read models that do not read the events' fields (``reads_events = False``)."""
        raise NotImplementedError(f"{self.name} reads the events' fields: apply it with apply()")

    def tables(self, table: str) -> list[str]:
        """Every table this read model owns (swapped together on rebuild)."""
        return [table]

    def digest(self, conn: Conn, table: str) -> str:
        """A content digest: equal digests mean equal tables, however they were built."""
        hasher = hashlib.sha256()
        for name in self.tables(table):
            query = sql.SQL('SELECT t::text FROM {} t ORDER BY t::text COLLATE "C"').format(sql.Identifier(name))
            with conn.cursor() as cur:
                for (row,) in cur.execute(query):
                    hasher.update(row.encode())
                    hasher.update(b"\n")
            hasher.update(b"\x00")
        return hasher.hexdigest()
