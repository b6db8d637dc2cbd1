"""The event feed: the log itself, in position order, as other systems consume it.

Positions are the dense leaf indexes, so a consumer that keeps the last position it processed resumes exactly
there: nothing missed, nothing twice. A filtered view (by type, by what a role may see) still advances its cursor
over everything it scanned, and a page scans a bounded window of the log, so a rare filter costs the same as a
common one.

Each event is given as plain JSON: the stored state with the transcoder's ``{"_type_", "_data_"}`` wrappers
undone (decimals stay exact strings, dates ISO), plus its position, leaf hash and both times.
"""

from __future__ import annotations

import base64
import json
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
ENVELOPE = ("originator_id", "originator_version", "timestamp", "originator_topic", "principal", "effective_on",
            "reason", "evidence")
# What the public may follow: disclosures, and the blacklist (a blacklisting only if it was published).
PUBLIC_TYPES = ("Project.Disclosed", "Agency.Blacklisted", "Agency.BlacklistLifted", "Agency.BlacklistExpired")


@dataclass(frozen=True)
class FeedFilter:
    types: tuple[str, ...] = ()  # event types ("Project.BudgetApproved") or aggregates ("Project.*"); () = all
    objects: tuple[UUID, ...] | None = None  # only these aggregates (a department follows its own)
    public_only: bool = False


@dataclass(frozen=True)
class FeedPage:
    events: list[dict[str, Any]]
    next: int  # the position to ask `after=` next: the last position this page scanned
    head: int  # the log's size when read


def _unwrap(obj: dict[str, Any]) -> Any:
    """The transcoder's ``{"_type_": …, "_data_": …}`` as the plain value (uuids in their usual form)."""
    if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
        data = obj["_data_"]
        return str(UUID(data)) if obj["_type_"] == "uuid_hex" else data
    return obj


def event_json(row: Sequence[Any], *, with_state: bool = False) -> dict[str, Any]:
    """One feed event from a row of (leaf_index, originator_id, version, topic, state, leaf_hash, recorded_at).

    ``with_state``: add the topic and the stored bytes (base64) the leaf hash commits to, so a subscriber can
    recompute the hash itself (:func:`ledger.integrity.leaf_hash`) before proving it is in the signed log.
    """
    position, originator_id, version, topic, state, leaf_hash, recorded_at = row
    stored: dict[str, Any] = json.loads(bytes(state), object_hook=_unwrap)
    principal = stored.get("principal") or {}
    event = {
        "position": position,
        "type": topic.rsplit(":", 1)[-1],
        "aggregate_id": str(originator_id),
        "version": version,
        "recorded_at": recorded_at.isoformat(),
        "effective_on": stored.get("effective_on"),
        "principal": {"id": principal.get("id"), "role": principal.get("role"),
                      "organisation": principal.get("organisation")},
        "reason": stored.get("reason", ""),
        "evidence": stored.get("evidence", []),
        "payload": {key: value for key, value in stored.items() if key not in ENVELOPE},
        "leaf_hash": bytes(leaf_hash).hex(),
    }
    if with_state:
        event["topic"] = topic
        event["state"] = base64.b64encode(bytes(state)).decode("ascii")
    return event


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
    """Up to ``limit`` events after position ``after`` (None: from the start) that ``where`` admits."""
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
    query = sql.SQL(
        "SELECT leaf_index, originator_id, originator_version, topic, state, leaf_hash, recorded_at FROM {} "
        "WHERE {} ORDER BY leaf_index LIMIT %s").format(sql.Identifier(EVENTS), sql.SQL(" AND ").join(conditions))
    rows = conn.execute(query, [*params, limit]).fetchall()
    events = [event_json(row, with_state=with_state) for row in rows]
    last = int(rows[-1][0]) if rows else start
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
