"""``blacklist``: every blacklisting of a third-party agency (失信黑名单), current and past.

``<table>_agencies`` keeps each agency's name and misconduct records, which a blacklisting cites. A page's agency
events are folded in memory (:func:`fold`) into the agencies and blacklistings it touches, which are then written
back with a statement each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from psycopg import sql

from ledger.domain.labels import LABELS
from ledger.domain.values import key
from projections import keyed, search
from projections.base import Conn, LogEvent, ReadModel, Row, composed, select_rows

DDL = """
CREATE TABLE IF NOT EXISTS {agencies} (
    agency_id uuid PRIMARY KEY,
    name text NOT NULL,
    name_key text NOT NULL,
    name_grams text[] NOT NULL,
    misconduct jsonb NOT NULL,
    credit_code text,
    qualification text NOT NULL,
    barred_until date
);
CREATE INDEX IF NOT EXISTS {agencies_grams_idx} ON {agencies} USING gin (name_grams);
CREATE TABLE IF NOT EXISTS {table} (
    agency_id uuid NOT NULL,
    blacklisting_no integer NOT NULL,
    agency_name text NOT NULL,
    misconduct jsonb NOT NULL,
    start_on date NOT NULL,
    until date NOT NULL,
    ended_on date,
    ended_how text,
    public boolean NOT NULL,
    reason text NOT NULL,
    conduct text NOT NULL,
    authority text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (agency_id, blacklisting_no)
);
"""


Agencies = dict[UUID, dict[str, Any]]  # agency id -> its name and misconduct records
Entries = dict[tuple[UUID, int], Row]  # (agency id, blacklisting number) -> the blacklisting's row

ENTRY_COLUMNS = [
    "agency_id",
    "blacklisting_no",
    "agency_name",
    "misconduct",
    "start_on",
    "until",
    "ended_on",
    "ended_how",
    "public",
    "reason",
    "conduct",
    "authority",
    "position",
]
AGENCY_COLUMNS = [
    "agency_id",
    "name",
    "name_key",
    "name_grams",
    "misconduct",
    "credit_code",
    "qualification",
    "barred_until",
]


class Blacklist(ReadModel):
    name = "blacklist"
    version = 3  # 2: the agencies' name keys and grams (search by part of the name); 3: the credit code, 资格 and
    # bars, and each blacklisting's conduct and deciding authority (what 信用青海 takes)

    def tables(self, table: str) -> list[str]:
        return [table, f"{table}_agencies"]

    def create(self, conn: Conn, table: str) -> None:
        conn.execute(
            sql.SQL(DDL).format(
                table=sql.Identifier(table),
                agencies=sql.Identifier(f"{table}_agencies"),
                agencies_grams_idx=sql.Identifier(f"{table}_agencies_name_grams_idx"),
            )
        )

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        relevant = [item for item in events if item.kind.startswith("Agency.")]
        if not relevant:
            return
        agencies_table = f"{table}_agencies"
        ids = sorted({item.originator_id for item in relevant})
        select = composed(
            conn,
            ("blacklist.agencies", table),
            lambda: sql.SQL(
                "SELECT agency_id, name, misconduct, credit_code, qualification, barred_until FROM {} "
                "WHERE agency_id = ANY(%s)"
            ).format(sql.Identifier(agencies_table)),
        )
        agencies: Agencies = {
            agency_id: {
                "name": name,
                "misconduct": misconduct,
                "credit_code": credit_code,
                "qualification": qualification,
                "barred_until": barred_until,
            }
            for agency_id, name, misconduct, credit_code, qualification, barred_until in conn.execute(
                select, (ids,), prepare=True
            )
        }
        entries: Entries = {}

        def stored(key: tuple[UUID, int]) -> Row:
            return self._load_entry(conn, table, key)

        for item in relevant:
            fold(agencies, entries, item, stored)
        # The agencies this page touched, and the blacklistings it began or ended: a statement each, as JSON.
        keyed.store(
            conn,
            agencies_table,
            AGENCY_COLUMNS,
            ["agency_id"],
            [_agency_row(agency_id, info) for agency_id, info in agencies.items()],
        )
        keyed.store(conn, table, ENTRY_COLUMNS, ["agency_id", "blacklisting_no"], entries.values())

    def _load_entry(self, conn: Conn, table: str, key: tuple[UUID, int]) -> dict[str, Any]:
        columns = ENTRY_COLUMNS
        row = conn.execute(
            sql.SQL("SELECT {} FROM {} WHERE agency_id = %s AND blacklisting_no = %s").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)
            ),
            key,
        ).fetchone()
        assert row is not None, f"blacklisting {key} ended before it began"
        return dict(zip(columns, row, strict=True))


def _agency_row(agency_id: UUID, info: dict[str, Any]) -> Row:
    """An agency's row: its name with the key and grams a search by part of it reads (projections.search)."""
    return {"agency_id": agency_id, "name_key": key(info["name"]), "name_grams": search.grams(info["name"]), **info}


def fold(agencies: Agencies, entries: Entries, item: LogEvent, stored: Callable[[tuple[UUID, int]], Row]) -> None:
    """One agency event applied to the page's ``agencies`` and the blacklistings it began or ended (``entries``);
    ``stored(key)`` is a blacklisting an earlier page began (the one a lifting or an expiry ends)."""
    e, agency_id = item.event, item.originator_id
    name = item.kind.removeprefix("Agency.")
    if name == "Registered":
        agencies[agency_id] = {
            "name": e.name,
            "misconduct": [],
            "credit_code": e.credit_code,
            "qualification": "qualified",
            "barred_until": None,
        }
    elif name == "CreditCodeRecorded":
        agencies[agency_id]["credit_code"] = e.credit_code
    elif name == "QualificationChanged":
        agencies[agency_id]["qualification"] = e.qualification
    elif name == "Barred":
        agencies[agency_id]["barred_until"] = e.until
    elif name == "MisconductRecorded":
        agencies[agency_id]["misconduct"].append(
            {"no": e.misconduct_no, "kind": e.kind, "description": e.description, "on": str(e.effective_on)}
        )
    elif name == "Blacklisted":
        cited = [m for m in agencies[agency_id]["misconduct"] if m["no"] in e.misconduct_nos]
        entries[(agency_id, e.blacklisting_no)] = {
            "agency_id": agency_id,
            "blacklisting_no": e.blacklisting_no,
            "agency_name": agencies[agency_id]["name"],
            "misconduct": cited,
            "start_on": e.start,
            "until": e.until,
            "ended_on": None,
            "ended_how": None,
            "public": e.public,
            "reason": e.reason,
            "conduct": "；".join(
                f"{LABELS['misconduct'].get(m['kind'], m['kind'])}：{m['description']}" for m in cited
            ),
            "authority": e.principal.organisation,
            "position": item.leaf_index,
        }
    elif name in ("BlacklistLifted", "BlacklistExpired"):
        key = (agency_id, e.blacklisting_no)
        entry = entries.get(key) or stored(key)
        entry.update(
            ended_on=e.effective_on,
            ended_how="lifted" if name == "BlacklistLifted" else "expired",
            position=item.leaf_index,
        )
        entries[key] = entry


# ------------------------------------------------------------------------------------------------------ queries


def blacklist(conn: Conn, *, today: date, public_only: bool, current_only: bool) -> list[Row]:
    conditions = [sql.SQL("TRUE")]
    if public_only:
        conditions.append(sql.SQL("public"))
    if current_only:
        conditions.append(sql.SQL("start_on <= %(today)s AND %(today)s < coalesce(ended_on, until)"))
    return select_rows(
        conn,
        sql.SQL(
            "SELECT b.agency_id, blacklisting_no, agency_name, b.misconduct, start_on, until, ended_on, ended_how, "
            "public, reason, (start_on <= %(today)s AND %(today)s < coalesce(ended_on, until)) AS current, "
            "a.credit_code, conduct, authority FROM {} b LEFT JOIN {} a USING (agency_id) "
            "WHERE {} ORDER BY start_on DESC, agency_name, blacklisting_no"
        ).format(
            sql.Identifier(Blacklist.name),
            sql.Identifier(f"{Blacklist.name}_agencies"),
            sql.SQL(" AND ").join(conditions),
        ),
        {"today": today},
    )


def agencies(conn: Conn, name_contains: str | None = None) -> list[Row]:
    """Every registered agency (those whose name contains ``name_contains``, in any spelling), by name."""
    if name_contains is None:
        return select_rows(
            conn,
            sql.SQL(
                "SELECT agency_id AS id, name, credit_code, qualification, barred_until FROM {} ORDER BY name"
            ).format(sql.Identifier(f"{Blacklist.name}_agencies")),
            [],
        )
    folded = key(name_contains)
    return select_rows(
        conn,
        sql.SQL(
            "SELECT agency_id AS id, name, credit_code, qualification, barred_until FROM {} WHERE {} ORDER BY name"
        ).format(sql.Identifier(f"{Blacklist.name}_agencies"), search.contains("name_grams", "name_key")),
        [search.query_grams(folded), folded],
    )
