"""The event feed: the log itself, in position order, as other systems consume it.

Positions are the dense leaf indexes, so a consumer that keeps the last position it processed resumes exactly
there: nothing missed, nothing twice. A filtered view (by type, by what a role may see) still advances its cursor
over everything it scanned, and a page scans a bounded window of the log, so a rare filter costs the same as a
common one.

Each event is rendered as JSON by PostgreSQL itself: the indexed columns (position, type, aggregate, version,
both times, principal, leaf hash) and, as ``payload``, the stored event **verbatim** — the very JSON the leaf hash
commits to, in which exact values are typed: ``{"_type_": "decimal_str", "_data_": "4800000.00"}`` (also
``date_iso``, ``datetime_iso``, ``uuid_hex``, ``principal``, ``indicator``; see :mod:`ledger.transcodings`).
Nothing is decoded and re-encoded in Python, so the feed streams at the speed of reading the rows.

What the public follows (and an agency: it reads what the public reads, and the audit findings about itself — their
recording, its response, the deadline notices) names who acted by role and organisation only: the principal's id —
a member of staff — is left out of the envelope (``"id": null``) and out of the payload, which for them is the stored
event without it (not the bytes the leaf hash commits to; the stored bytes themselves, ``with_state``, are not for
them).
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import sql

from ledger.domain.values import Principal, Role
from ledger.store.tables import EVENTS
from projections.audit_findings import agency_finding_objects
from projections.base import Conn
from projections.positions import log_size
from projections.project_status import department_objects

SCAN_WINDOW = 10_000  # log positions one page looks at, at most, when a filter skips most of them
# What the public may follow: disclosures (a project's, an organisation's overall goals), the blacklist (a
# blacklisting only if it was published), and every step of the re-evaluation draw — a failed one above all: whether
# finance withheld a reveal is for everyone to see.
PUBLIC_TYPES = (
    "Project.Disclosed",
    "DisclosureDuty.Disclosed",
    "Agency.Blacklisted",
    "Agency.BlacklistLifted",
    "Agency.BlacklistExpired",
    "ReEvaluationSample.Announced",
    "ReEvaluationSample.Reannounced",
    "ReEvaluationSample.Contributed",
    "ReEvaluationSample.Revealed",
    "ReEvaluationSample.RevealApproaching",
    "ReEvaluationSample.Failed",
)

# One event as JSON text, assembled by PostgreSQL: no decoding in Python, the stored state spliced in as it is.
# ``{id}`` is the principal's id as JSON: the column's, or null for the public.
_ENVELOPE = (
    "'{{\"position\":' || leaf_index || ',\"type\":' || to_json(split_part(topic, ':', 2)) || "
    '\',"aggregate_id":"\' || originator_id || \'","version":\' || originator_version || '
    "',\"recorded_at\":' || to_json(recorded_at) || ',\"effective_on\":' || coalesce(to_json(effective_on)::text, "
    "'null') || ',\"principal\":{{\"id\":' || {id} || ',\"role\":' || "
    "coalesce(to_json(principal_role)::text, 'null') || ',\"organisation\":' || "
    "coalesce(to_json(principal_org)::text, 'null') || '}},\"leaf_hash\":\"' || encode(leaf_hash, 'hex') || "
    '\'","payload":\''
)
EVENT_ENVELOPE = _ENVELOPE.format(id="coalesce(to_json(principal_id)::text, 'null')")
EVENT_JSON = EVENT_ENVELOPE + " || convert_from(state, 'UTF8')"
# For the public: no staff id in the envelope, nor in the payload's principal (ledger.transcodings: "principal").
PUBLIC_ENVELOPE = _ENVELOPE.format(id="'null'")
PUBLIC_PAYLOAD = "(convert_from(state, 'UTF8')::jsonb #- '{principal,_data_,id}')::text"
PUBLIC_JSON = PUBLIC_ENVELOPE + " || " + PUBLIC_PAYLOAD
# The same as UTF-8 bytes, with the stored state spliced in as the bytes it is: converting each state to text
# (which checks it is UTF-8) cost PostgreSQL as much as rendering the rest of the event. The state was written as
# UTF-8 JSON by the ledger's transcoder, the log's triggers keep it as written, and verification checks its bytes.
EVENT_JSON_BYTES = "convert_to(" + EVENT_ENVELOPE + ", 'UTF8') || state"
# A row the public may see: a disclosure, or a blacklisting that was published (or its end). CASE, so the stored
# state is parsed only for blacklistings.
PUBLIC_EVENT = sql.SQL(
    "CASE WHEN split_part(topic, ':', 2) NOT IN ({}) THEN false "
    "WHEN topic LIKE '%%:Agency.Blacklisted' "
    "THEN coalesce((convert_from(state, 'UTF8')::jsonb ->> 'public')::boolean, false) "
    "ELSE true END"
).format(sql.SQL(", ").join(sql.Literal(kind) for kind in PUBLIC_TYPES))
WITH_STATE = (
    " || ',\"topic\":' || to_json(topic) || ',\"state\":\"' || translate(encode(state, 'base64'), E'\\n', '') || '\"'"
)


@dataclass(frozen=True)
class FeedFilter:
    types: tuple[str, ...] = ()  # event types ("Project.BudgetApproved") or aggregates ("Project.*"); () = all
    objects: tuple[UUID, ...] | None = None  # only these aggregates (a department follows its own)
    public_only: bool = False
    own: tuple[UUID, ...] = ()  # with ``public_only``: these aggregates' events too (an agency: the findings about it)


@dataclass(frozen=True)
class FeedEvent:
    position: int
    type: str  # "Project.BudgetApproved"
    json: str  # the whole event as JSON text


@dataclass(frozen=True)
class FeedPage:
    events: list[FeedEvent]
    next: int  # the position to ask `after=` next: the last position this page scanned
    head: int  # the log's size when read

    def json(self) -> str:
        return f'{{"events":[{",".join(event.json for event in self.events)}],"next":{self.next},"head":{self.head}}}'


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern for names starting with ``prefix``, its ``_`` and ``%`` taken literally."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _type_condition(types: Sequence[str]) -> tuple[sql.Composable, list[Any]]:
    exact = [item for item in types if not item.endswith(".*")]
    prefixes = [item.removesuffix("*") for item in types if item.endswith(".*")]
    parts: list[sql.Composable] = []
    params: list[Any] = []
    if exact:
        parts.append(sql.SQL("split_part(topic, ':', 2) = ANY(%s)"))
        params.append(exact)
    if prefixes:
        parts.append(sql.SQL("split_part(topic, ':', 2) LIKE ANY(%s)"))
        params.append([_like_prefix(prefix) for prefix in prefixes])
    return sql.SQL("(") + sql.SQL(" OR ").join(parts) + sql.SQL(")"), params


def type_admitted(types: Sequence[str], kind: str) -> bool:
    """What :func:`_type_condition` decides in SQL, for one event type in memory (``()`` admits every type)."""
    return not types or any(kind.startswith(item[:-1]) if item.endswith(".*") else kind == item for item in types)


def _page_query(
    after: int | None,
    limit: int,
    where: FeedFilter,
    with_state: bool,
    *,
    as_bytes: bool = False,
    until: int | None = None,
) -> tuple[sql.Composed, list[Any], int, int]:
    """The page's SELECT (position, type, the event as JSON text — or UTF-8 bytes; LIMIT left as the last
    parameter), its parameters, and the window it scans: positions after ``start`` up to ``window_end`` (and not
    past ``until``)."""
    start = -1 if after is None else after
    # Positions are dense, so an unfiltered page is exactly the next ``limit`` positions: the range says so, and no
    # plan — whatever the table's statistics — reads more rows than the page holds. A filtered page scans a window.
    filtered = bool(where.types) or where.public_only or where.objects is not None
    window_end = start + (SCAN_WINDOW if filtered else limit)
    if until is not None:
        window_end = max(start, min(window_end, until))
    conditions: list[sql.Composable] = [sql.SQL("leaf_index > %s"), sql.SQL("leaf_index <= %s")]
    params: list[Any] = [start, window_end]
    if where.types:
        condition, extra = _type_condition(where.types)
        conditions.append(condition)
        params.extend(extra)
    if where.public_only and where.own:
        conditions.append(sql.SQL("({} OR originator_id = ANY(%s))").format(PUBLIC_EVENT))
        params.append(list(where.own))
    elif where.public_only:
        conditions.append(PUBLIC_EVENT)
    if where.objects is not None:
        conditions.append(sql.SQL("originator_id = ANY(%s)"))
        params.append(list(where.objects))
    if where.public_only:  # never with the stored state: it names the staff who acted
        rendered = PUBLIC_JSON + " || '}'"
        if as_bytes:
            rendered = f"convert_to({rendered}, 'UTF8')"
    elif as_bytes:
        rendered = (
            EVENT_JSON_BYTES + (f" || convert_to(''{WITH_STATE}, 'UTF8')" if with_state else "") + " || '\\x7d'::bytea"
        )
    else:
        rendered = EVENT_JSON + (WITH_STATE if with_state else "") + " || '}'"
    query = sql.SQL(
        "SELECT leaf_index, split_part(topic, ':', 2) AS type, {} AS json FROM {} WHERE {} ORDER BY leaf_index LIMIT %s"
    ).format(sql.SQL(rendered), sql.Identifier(EVENTS), sql.SQL(" AND ").join(conditions))
    return query, params, start, window_end


def _scanned(start: int, window_end: int, head: int, count: int, last: int | None, limit: int) -> int:
    """The cursor after a page: the last position it scanned.

    A short page saw every position up to the window's end or the head: each position below the head (read before
    the rows) was committed by then, as appends commit in position order. Rows committed since the head was read
    may lie beyond it, hence the max.
    """
    last = start if last is None else last
    scanned = last if count == limit else max(min(window_end, head - 1), last)
    return max(scanned, start)


def read(
    conn: Conn,
    after: int | None,
    limit: int,
    where: FeedFilter = FeedFilter(),
    *,
    with_state: bool = False,
    until: int | None = None,
) -> FeedPage:
    """Up to ``limit`` events after position ``after`` (None: from the start) that ``where`` admits.

    ``with_state``: each event also carries its topic and stored bytes (base64), so a subscriber can recompute the
    leaf hash itself (:func:`ledger.integrity.leaf_hash`) before proving it is in the signed log. ``until``: scan no
    position past it (the SSE stream reads up to where the process's reader of the log has got).
    """
    head = log_size(conn)
    query, params, start, window_end = _page_query(after, limit, where, with_state, until=until)
    rows = conn.execute(query, [*params, limit]).fetchall()
    events = [FeedEvent(int(position), kind, text) for position, kind, text in rows]
    return FeedPage(
        events, _scanned(start, window_end, head, len(rows), events[-1].position if events else None, limit), head
    )


def read_json(
    conn: Conn, after: int | None, limit: int, where: FeedFilter = FeedFilter(), *, with_state: bool = False
) -> bytes:
    """The same page as :func:`read`, as the JSON document ``GET /events`` answers with: ``{"events": […],
    "next": …, "head": …}``, in UTF-8.

    PostgreSQL renders each event as UTF-8 bytes and joins the page into one value, so nothing is done per event
    in Python — not even decoding text and encoding it again (about half of a page's time when each event was a
    row of its own text, bench_subscriptions).
    """
    query, params, start, window_end = _page_query(after, limit, where, with_state, as_bytes=True)
    # The head in the same statement, so in the same snapshot as the rows: every position below it is visible.
    joined = sql.SQL(
        "SELECT (SELECT coalesce(max(leaf_index) + 1, 0) FROM {}), count(*), max(leaf_index), "
        "coalesce(string_agg(json, '\\x2c'::bytea ORDER BY leaf_index), ''::bytea) FROM ({}) AS page"
    ).format(sql.Identifier(EVENTS), query)
    row = conn.execute(joined, [*params, limit], binary=True).fetchone()
    assert row is not None  # an aggregate always answers one row
    head, count, last, events = int(row[0]), int(row[1]), row[2], row[3]
    cursor = _scanned(start, window_end, head, count, None if last is None else int(last), limit)
    return b"".join((b'{"events":[', events, f'],"next":{cursor},"head":{head}}}'.encode()))


@dataclass(frozen=True, slots=True)
class TailEvent:
    """One event as the SSE fan-out holds it: what a subscriber's filter looks at, and its frame, ready to send."""

    position: int
    type: str
    originator: UUID
    public: bool  # what the public may see (:data:`PUBLIC_EVENT`)
    declared_by: str | None  # a Project.Declared, Unit.Registered, OverallGoals.Submitted or a finding a department (or
    # unit) owes a response to (AuditFinding.Recorded): the department it is of
    declared_for: str | None  # and its budget unit, if it names one (a Unit.Registered: the unit itself; overall goals:
    # the organisation they are of, the department or its unit; a finding: the organisation that responds)
    finding_of: str | None  # an AuditFinding.Recorded about an agency: the agency (who owes the response)
    frame: bytes  # "id: <position>\nevent: <type>\ndata: <the event as the feed renders it>\n\n", UTF-8
    public_frame: bytes | None  # the frame the public and agencies get (no staff id), for a public event or a finding

    def frame_for(self, public_only: bool) -> bytes:
        """The frame a reader gets: the public's, without the staff id, for a reader who sees what the public sees."""
        return self.public_frame if public_only and self.public_frame is not None else self.frame

    def admitted(
        self, types: Sequence[str], public_only: bool, objects: Container[UUID] | None, own: Container[UUID] = ()
    ) -> bool:
        """What :func:`read` decides in SQL for a :class:`FeedFilter` of these fields, in memory."""
        return (
            type_admitted(types, self.type)
            and (self.public or not public_only or (self.public_frame is not None and self.originator in own))
            and (objects is None or self.originator in objects)
        )


# Every event in (after, until], for the process's one reader of the log (api.watch): the frame is rendered by
# PostgreSQL, byte for byte what sse_frame() makes of the feed's JSON, with the stored state spliced in as its bytes.
TAIL = sql.SQL(
    "SELECT leaf_index, split_part(topic, ':', 2), originator_id, {public}, "
    "CASE WHEN topic LIKE '%%:Project.Declared' OR topic LIKE '%%:Unit.Registered' "
    "OR topic LIKE '%%:OverallGoals.Submitted' THEN convert_from(state, 'UTF8')::jsonb ->> 'department' "
    "WHEN topic LIKE '%%:AuditFinding.Recorded' THEN convert_from(state, 'UTF8')::jsonb ->> 'department' END, "
    "CASE WHEN topic LIKE '%%:Project.Declared' THEN convert_from(state, 'UTF8')::jsonb ->> 'unit' "
    "WHEN topic LIKE '%%:Unit.Registered' THEN convert_from(state, 'UTF8')::jsonb ->> 'name' "
    "WHEN topic LIKE '%%:OverallGoals.Submitted' THEN convert_from(state, 'UTF8')::jsonb ->> 'organisation' "
    "WHEN topic LIKE '%%:AuditFinding.Recorded' AND convert_from(state, 'UTF8')::jsonb ->> 'responder_kind' = "
    "'department' THEN convert_from(state, 'UTF8')::jsonb ->> 'responder' END, "
    "CASE WHEN topic LIKE '%%:AuditFinding.Recorded' AND convert_from(state, 'UTF8')::jsonb ->> 'responder_kind' = "
    "'agency' THEN convert_from(state, 'UTF8')::jsonb ->> 'responder' END, "
    "convert_to('id: ' || leaf_index || E'\\nevent: ' || split_part(topic, ':', 2) || E'\\ndata: ' || {envelope}, "
    "'UTF8') || state || '\\x7d0a0a'::bytea, "
    "CASE WHEN {public} OR topic LIKE '%%:AuditFinding.%%' "
    "THEN convert_to('id: ' || leaf_index || E'\\nevent: ' || split_part(topic, ':', 2) || "
    "E'\\ndata: ' || {public_json} || E'}}\\n\\n', 'UTF8') END "
    "FROM {events} WHERE leaf_index > %s AND leaf_index <= %s "
    "ORDER BY leaf_index"
).format(
    public=PUBLIC_EVENT,
    envelope=sql.SQL(EVENT_ENVELOPE),
    public_json=sql.SQL(PUBLIC_JSON),
    events=sql.Identifier(EVENTS),
)


def sse_frame(event: FeedEvent) -> bytes:
    """The Server-Sent Events frame of a feed event: ``id`` is its position, ``event`` its type."""
    return f"id: {event.position}\nevent: {event.type}\ndata: {event.json}\n\n".encode()


def visible_to(conn: Conn, principal: Principal, types: tuple[str, ...] = ()) -> FeedFilter:
    """What ``principal`` may follow: finance and auditors everything, a department its own projects and record (and
    its units', and the audit findings about them), a budget unit its own, an agency the public events and the audit
    findings about it (as the public sees events: no staff id), anyone else the public events."""
    if principal.role in (Role.FINANCE, Role.AUDITOR):
        return FeedFilter(types)
    if principal.role == Role.DEPARTMENT:
        return FeedFilter(types, objects=department_objects(conn, principal.organisation))
    if principal.role == Role.AGENCY:
        return FeedFilter(types, public_only=True, own=agency_finding_objects(conn, principal.organisation))
    return FeedFilter(types, public_only=True)
