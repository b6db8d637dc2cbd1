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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import sql

from ledger.values import Principal, Role
from projections import queries
from projections.base import Conn

EVENTS = "ledger_events"
SCAN_WINDOW = 10_000  # log positions one page looks at, at most, when a filter skips most of them
# What the public may follow: disclosures, and the blacklist (a blacklisting only if it was published).
PUBLIC_TYPES = ("Project.Disclosed", "Agency.Blacklisted", "Agency.BlacklistLifted", "Agency.BlacklistExpired")

# One event as JSON text, assembled by PostgreSQL: no decoding in Python, the stored state spliced in as it is.
EVENT_JSON = (
    "'{\"position\":' || leaf_index || ',\"type\":' || to_json(split_part(topic, ':', 2)) || "
    "',\"aggregate_id\":\"' || originator_id || '\",\"version\":' || originator_version || "
    "',\"recorded_at\":' || to_json(recorded_at) || ',\"effective_on\":' || coalesce(to_json(effective_on)::text, "
    "'null') || ',\"principal\":{\"id\":' || coalesce(to_json(principal_id)::text, 'null') || ',\"role\":' || "
    "coalesce(to_json(principal_role)::text, 'null') || ',\"organisation\":' || "
    "coalesce(to_json(principal_org)::text, 'null') || '},\"leaf_hash\":\"' || encode(leaf_hash, 'hex') || "
    "'\",\"payload\":' || convert_from(state, 'UTF8')"
)
WITH_STATE = (" || ',\"topic\":' || to_json(topic) || ',\"state\":\"' || "
              "translate(encode(state, 'base64'), E'\\n', '') || '\"'")


@dataclass(frozen=True)
class FeedFilter:
    types: tuple[str, ...] = ()  # event types ("Project.BudgetApproved") or aggregates ("Project.*"); () = all
    objects: tuple[UUID, ...] | None = None  # only these aggregates (a department follows its own)
    public_only: bool = False


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
        params.append([prefix + "%" for prefix in prefixes])
    return sql.SQL("(") + sql.SQL(" OR ").join(parts) + sql.SQL(")"), params


def read(conn: Conn, after: int | None, limit: int, where: FeedFilter = FeedFilter(), *,
         with_state: bool = False) -> FeedPage:
    """Up to ``limit`` events after position ``after`` (None: from the start) that ``where`` admits.

    ``with_state``: each event also carries its topic and stored bytes (base64), so a subscriber can recompute the
    leaf hash itself (:func:`ledger.integrity.leaf_hash`) before proving it is in the signed log.
    """
    head_row = conn.execute(sql.SQL("SELECT coalesce(max(leaf_index) + 1, 0) FROM {}").format(
        sql.Identifier(EVENTS))).fetchone()
    head = int(head_row[0]) if head_row else 0
    start = -1 if after is None else after
    window_end = start + SCAN_WINDOW
    conditions: list[sql.Composable] = [sql.SQL("leaf_index > %s"), sql.SQL("leaf_index <= %s")]
    params: list[Any] = [start, window_end]
    if where.types:
        condition, extra = _type_condition(where.types)
        conditions.append(condition)
        params.extend(extra)
    if where.public_only:
        condition, extra = _type_condition(PUBLIC_TYPES)
        conditions.append(condition)
        params.extend(extra)
        # A blacklisting that was not published stays out of the public feed.
        conditions.append(sql.SQL("(topic NOT LIKE '%%:Agency.Blacklisted' OR "
                                  "(convert_from(state, 'UTF8')::jsonb ->> 'public')::boolean)"))
    if where.objects is not None:
        conditions.append(sql.SQL("originator_id = ANY(%s)"))
        params.append(list(where.objects))
    rendered = EVENT_JSON + (WITH_STATE if with_state else "") + " || '}'"
    query = sql.SQL("SELECT leaf_index, split_part(topic, ':', 2), {} FROM {} WHERE {} ORDER BY leaf_index LIMIT %s"
                    ).format(sql.SQL(rendered), sql.Identifier(EVENTS), sql.SQL(" AND ").join(conditions))
    rows = conn.execute(query, [*params, limit]).fetchall()
    events = [FeedEvent(int(position), kind, text) for position, kind, text in rows]
    last = events[-1].position if events else start
    # A short page saw every position up to the window's end or the head: each position below the head (read
    # before the rows) was committed by then, as appends commit in position order. Rows committed since the head
    # was read may lie beyond it, hence the max.
    scanned = last if len(rows) == limit else max(min(window_end, head - 1), last)
    return FeedPage(events, max(scanned, start), head)


def visible_to(conn: Conn, principal: Principal, types: tuple[str, ...] = ()) -> FeedFilter:
    """What ``principal`` may follow: finance and auditors everything, a department its own projects and record,
    anyone else the public events."""
    if principal.role in (Role.FINANCE, Role.AUDITOR):
        return FeedFilter(types)
    if principal.role == Role.DEPARTMENT:
        return FeedFilter(types, objects=queries.department_objects(conn, principal.organisation))
    return FeedFilter(types, public_only=True)
