"""Time-driven work (定时任务): the rules that time alone makes true, and how the ledger finds where they apply.

Each sweep is one such rule — a deadline approaching or missed, a deviation to detect in the latest monitoring,
funding to suspend when a deviation goes unanswered, a rectification overdue, a blacklisting expired. What it
records is decided by the aggregate's own method, whose state remembers what was raised: running a sweep again
records nothing, and two sweeps racing on one object lose to optimistic concurrency (a version conflict, re-checked
on the reloaded object), never record twice.

Finding the objects without replaying every aggregate on every run: ``ledger_sweep_watch`` keeps, per sweep and
object, the first day it may need attention (``check_on``, from the aggregate's ``next_*`` method after each visit;
NULL when only a new event could change anything). A run first reads the log's tail since the sweep's position —
only the indexed ``leaf_index`` range and the ``originator_id``, ``originator_version`` and ``topic`` columns, no
payloads — and marks every object changed since as due today; then it visits only the objects due. A quiet run
costs a few indexed queries however many projects there are, and a busy one a visit per object with work to do.

The watch list and positions are bookkeeping the service's database role can write, so they must not be able to
hide anything: each ledger process also visits every object of a sweep's kind at its first run and then every
``recheck_interval`` (a day by default), whatever the list says. An altered list can delay a notice by at most
that long, and every object the full pass finds due that the list did not name is logged as a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow

from ledger.domain import rules
from ledger.domain.base import LedgerAggregate
from ledger.domain.catalogue import Ruleset
from ledger.domain.errors import InvalidInput
from ledger.domain.organisations import Agency
from ledger.domain.project import Project
from ledger.domain.values import SYSTEM
from ledger.store.recorder import lock_schema

A = TypeVar("A", bound=LedgerAggregate)

WATCH = "ledger_sweep_watch"
POSITIONS = "ledger_sweep_positions"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {POSITIONS} (
    sweep text PRIMARY KEY,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {WATCH} (
    sweep text NOT NULL,
    object_id uuid NOT NULL,
    version bigint NOT NULL,
    marked bigint NOT NULL,
    check_on date,
    PRIMARY KEY (sweep, object_id)
);
CREATE INDEX IF NOT EXISTS {WATCH}_due_idx ON {WATCH} (sweep, check_on) WHERE check_on IS NOT NULL;
"""


@dataclass(frozen=True)
class SweepContext:
    """What a sweep decides with: the day, the ruleset in force, the working-day calendar."""

    today: date
    params: rules.RuleParameters
    ruleset_version: int
    holidays: tuple[date, ...] = ()
    working_weekends: tuple[date, ...] = ()


@dataclass(frozen=True)
class Sweep(Generic[A]):
    """One time-driven rule: ``decide`` records on the aggregate what is due; ``next_check`` is the first day it
    could record anything more, unless the aggregate changes first."""

    name: str
    title: str
    aggregate: type[A]
    not_found_code: str
    decide: Callable[[A, SweepContext], object]
    next_check: Callable[[A, SweepContext], date | None]

    @property
    def topic_prefix(self) -> str:
        return f"{get_topic(self.aggregate)}."


@dataclass(frozen=True)
class SweepReport:
    """One run of a sweep: the objects it visited, the events it raised (by type) and where they are in the log."""

    sweep: str
    today: date
    visited: int
    raised: dict[str, int] = field(default_factory=dict)
    positions: list[int] = field(default_factory=list)
    conflicts: int = 0  # lost races with another writer, each re-checked on the reloaded object
    rechecked: int = 0  # objects the watch list did not name, visited by the periodic full pass
    missed: int = 0  # of those, the ones that had something due: the watch list was wrong (altered?)


def _detect(project: Project, context: SweepContext) -> bool:
    return project.detect_deviation(context.params, context.ruleset_version, context.holidays, SYSTEM,
                                    context.today, context.working_weekends)


# In dependency order: a deviation detected today is a deadline the next sweep may already warn about.
SWEEPS: dict[str, Sweep[Any]] = {sweep.name: sweep for sweep in (
    Sweep("deviations", "DeviationDetected: the latest monitoring below the ruleset's thresholds, once per period",
          Project, "project-not-found", _detect, lambda project, context: None),
    Sweep("deadlines", "DeadlineApproaching / DeadlineMissed: goals, monitoring report, self-evaluation, "
          "rectifications, deviation answers", Project, "project-not-found",
          lambda project, context: project.raise_deadline_notices(context.today, context.params, SYSTEM),
          lambda project, context: project.next_deadline_notice(context.params)),
    Sweep("funding-suspension", "FundingSuspended: a deviation not answered in the working days allowed",
          Project, "project-not-found",
          lambda project, context: project.suspend_funding_if_unanswered(context.today, SYSTEM),
          lambda project, context: project.next_suspension_check()),
    Sweep("rectifications-overdue", "RectificationOverdue: a rectification not accepted by its deadline",
          Project, "project-not-found",
          lambda project, context: project.mark_rectifications_overdue(context.today, SYSTEM),
          lambda project, context: project.next_overdue_check()),
    Sweep("blacklist-expiry", "BlacklistExpired: a blacklisting's period has ended", Agency, "agency-not-found",
          lambda agency, context: agency.expire_blacklistings(context.today, SYSTEM),
          lambda agency, context: agency.next_expiry_check()),
)}


def sweep_named(name: str) -> Sweep[Any]:
    try:
        return SWEEPS[name]
    except KeyError:
        raise InvalidInput(f"no sweep named {name!r} (there are: {', '.join(SWEEPS)})", field="sweep") from None


RULESET_PREFIX = f"{get_topic(Ruleset)}."


class SweepWatch:
    """The watch list and tail positions of every sweep, next to the log they follow."""

    def __init__(self, datastore: PostgresDatastore, events_table: str) -> None:
        self.datastore = datastore
        self.events_table = events_table

    @contextmanager
    def _transaction(self) -> Iterator[Cursor[DictRow]]:
        with self.datastore.transaction(commit=True) as curs:
            yield curs

    def create_tables(self) -> None:
        with self._transaction() as curs:
            lock_schema(curs)
            curs.execute(SCHEMA)  # our own constant DDL

    def refresh(self, sweep: Sweep[Any], today: date) -> int:
        """Mark every object of the sweep's kind recorded since its position as due ``today``; return the log
        position now covered.

        Leaf indexes become visible in order (appends hold the table lock until they commit), so reading up to the
        head seen at the start never skips a row. The position row is locked: two schedulers refresh one at a time.
        """
        events = self.events_table
        with self._transaction() as curs:
            curs.execute(f"INSERT INTO {POSITIONS} (sweep, position) VALUES (%s, -1) "  # noqa: S608 - our table names
                         "ON CONFLICT (sweep) DO NOTHING", (sweep.name,))
            curs.execute(f"SELECT position FROM {POSITIONS} WHERE sweep = %s FOR UPDATE",  # noqa: S608
                         (sweep.name,))
            row = curs.fetchone()
            assert row is not None
            position = int(row["position"])
            curs.execute(f"SELECT coalesce(max(leaf_index), -1) AS head FROM {events}")  # noqa: S608
            head_row = curs.fetchone()
            assert head_row is not None
            head = int(head_row["head"])
            if head <= position:
                return position
            curs.execute(
                f"SELECT originator_id, max(originator_version) AS version FROM {events} "  # noqa: S608
                "WHERE leaf_index > %s AND leaf_index <= %s AND starts_with(topic, %s) GROUP BY originator_id",
                (position, head, sweep.topic_prefix))
            changed = curs.fetchall()
            if changed:
                # Only a newer version re-marks an object: the sweep's own writes are already accounted for.
                curs.execute(
                    f"INSERT INTO {WATCH} AS w (sweep, object_id, version, marked, check_on) "  # noqa: S608
                    "SELECT %s, t.object_id, t.version, %s, %s "
                    "FROM unnest(%s::uuid[], %s::bigint[]) AS t(object_id, version) "
                    "ON CONFLICT (sweep, object_id) DO UPDATE SET version = excluded.version, "
                    "marked = excluded.marked, check_on = LEAST(w.check_on, excluded.check_on) "
                    "WHERE w.version < excluded.version",
                    (sweep.name, head, today, [r["originator_id"] for r in changed], [r["version"] for r in changed]))
            curs.execute(
                f"SELECT EXISTS (SELECT 1 FROM {events} WHERE leaf_index > %s AND leaf_index <= %s "  # noqa: S608
                "AND starts_with(topic, %s)) AS adopted", (position, head, RULESET_PREFIX))
            adopted = curs.fetchone()
            if adopted is not None and adopted["adopted"]:
                # New rule parameters (warning days, say) may move any object's next check: look at each once.
                curs.execute(f"UPDATE {WATCH} SET check_on = LEAST(check_on, %s), marked = %s "  # noqa: S608
                             "WHERE sweep = %s", (today, head, sweep.name))
            curs.execute(f"UPDATE {POSITIONS} SET position = %s WHERE sweep = %s",  # noqa: S608
                         (head, sweep.name))
            return head

    def all_objects(self, sweep: Sweep[Any]) -> list[UUID]:
        """Every object of the sweep's kind, from the log itself (each one's first event)."""
        with self._transaction() as curs:
            curs.execute(f"SELECT originator_id FROM {self.events_table} "  # noqa: S608 - our table names
                         "WHERE originator_version = 1 AND starts_with(topic, %s) ORDER BY originator_id",
                         (sweep.topic_prefix,))
            return [row["originator_id"] for row in curs.fetchall()]

    def due(self, sweep: Sweep[Any], today: date) -> list[UUID]:
        with self._transaction() as curs:
            curs.execute(f"SELECT object_id FROM {WATCH} WHERE sweep = %s AND check_on <= %s "  # noqa: S608
                         "ORDER BY check_on, object_id", (sweep.name, today))
            return [row["object_id"] for row in curs.fetchall()]

    def checked(self, sweep: Sweep[Any], covered: int, visits: Sequence[tuple[UUID, int, date | None]]) -> None:
        """Record each visit's next check and the object's version after it — unless the row was marked again
        past ``covered`` meanwhile (another scheduler saw a change this visit may not have), so it stays due."""
        if not visits:
            return
        with self._transaction() as curs:
            curs.execute(
                f"UPDATE {WATCH} AS w SET check_on = t.check_on, version = GREATEST(w.version, t.version) "  # noqa: S608
                "FROM unnest(%s::uuid[], %s::bigint[], %s::date[]) AS t(object_id, version, check_on) "
                "WHERE w.sweep = %s AND w.object_id = t.object_id AND w.marked <= %s",
                ([v[0] for v in visits], [v[1] for v in visits], [v[2] for v in visits], sweep.name, covered))

    def next_check(self, after: date) -> date | None:
        """The earliest day after ``after`` on which any sweep has an object due (for simulations)."""
        with self._transaction() as curs:
            curs.execute(f"SELECT min(check_on) AS day FROM {WATCH} WHERE check_on > %s",  # noqa: S608
                         (after,))
            row = curs.fetchone()
        return row["day"] if row else None
