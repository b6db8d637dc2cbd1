"""``blacklist``'s fold, without a database: an agency's events in, its record and blacklistings (失信黑名单) out."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from projections.base import LogEvent, Row
from projections.blacklist import ENTRY_COLUMNS, Agencies, Entries, fold
from tests.projections.recorded import Log

AGENCY = "青海某会计师事务所"
# An agency registered before codes (its Registered event without ``credit_code``): qualified, no code, no bar.
REGISTERED_BEFORE_CODES = {"credit_code": None, "qualification": "qualified", "barred_until": None}


def no_stored(key: tuple[UUID, int]) -> Row:
    raise AssertionError(f"blacklisting {key} was read from the table: the page holds it")


def folded(
    events: list[LogEvent], agencies: Agencies | None = None, stored: dict[tuple[UUID, int], Row] | None = None
) -> tuple[Agencies, Entries]:
    agencies = {} if agencies is None else agencies
    entries: Entries = {}
    for item in events:
        fold(agencies, entries, item, stored.__getitem__ if stored is not None else no_stored)
    return agencies, entries


def misconduct(log: Log, agency: UUID, no: int, on: date) -> LogEvent:
    return log.record(
        "Agency.MisconductRecorded",
        agency,
        effective_on=on,
        misconduct_no=no,
        kind="falsification",
        description=f"伪造问卷 {no}",
    )


def blacklisted(log: Log, agency: UUID, no: int, cited: list[int], *, public: bool = True) -> LogEvent:
    return log.record(
        "Agency.Blacklisted",
        agency,
        effective_on=date(2022, 3, 20),
        reason="评价结果不实",
        blacklisting_no=no,
        misconduct_nos=cited,
        start=date(2022, 3, 20),
        until=date(2025, 3, 19),
        public=public,
    )


def test_a_blacklisting_cites_the_misconduct_it_names_under_the_agencys_name() -> None:
    log, agency = Log(), uuid4()
    events = [
        log.record("Agency.Registered", agency, name=AGENCY, credentials="证书", affiliation=None),
        misconduct(log, agency, 1, date(2022, 1, 5)),
        misconduct(log, agency, 2, date(2022, 2, 6)),
        misconduct(log, agency, 3, date(2022, 3, 7)),
        blacklisted(log, agency, 1, [1, 3], public=False),
    ]
    agencies, entries = folded(events)
    records = [
        {"no": no, "kind": "falsification", "description": f"伪造问卷 {no}", "on": on}
        for no, on in ((1, "2022-01-05"), (2, "2022-02-06"), (3, "2022-03-07"))
    ]
    assert agencies == {agency: {"name": AGENCY, "misconduct": records, **REGISTERED_BEFORE_CODES}}
    entry = entries[(agency, 1)]
    assert list(entry) == ENTRY_COLUMNS
    assert entry == {
        "agency_id": agency,
        "blacklisting_no": 1,
        "agency_name": AGENCY,
        "misconduct": [records[0], records[2]],
        "start_on": date(2022, 3, 20),
        "until": date(2025, 3, 19),
        "ended_on": None,
        "ended_how": None,
        "public": False,
        "reason": "评价结果不实",
        "conduct": "弄虚作假：伪造问卷 1；弄虚作假：伪造问卷 3",
        "authority": "市财政局",
        "position": events[-1].leaf_index,
    }


def test_misconduct_of_an_agency_registered_in_an_earlier_page_adds_to_its_record() -> None:
    log, agency = Log(), uuid4()
    earlier: Agencies = {
        agency: {"name": AGENCY, "misconduct": [{"no": 1, "kind": "k", "description": "d", "on": "2021-01-01"}]}
    }
    agencies, entries = folded([misconduct(log, agency, 2, date(2022, 2, 6))], earlier)
    assert [record["no"] for record in agencies[agency]["misconduct"]] == [1, 2]
    assert entries == {}


@pytest.mark.parametrize(
    ("event", "how"), [("Agency.BlacklistLifted", "lifted"), ("Agency.BlacklistExpired", "expired")]
)
def test_a_blacklisting_ends_when_lifted_or_expired(event: str, how: str) -> None:
    log, agency = Log(), uuid4()
    begun = [
        log.record("Agency.Registered", agency, name=AGENCY, credentials="", affiliation=None),
        misconduct(log, agency, 1, date(2022, 1, 5)),
        blacklisted(log, agency, 1, [1]),
    ]
    ended = log.record(event, agency, effective_on=date(2023, 4, 1), blacklisting_no=1)
    _, entries = folded([*begun, ended])  # the same page: the entry it began
    assert {key: entries[(agency, 1)][key] for key in ("ended_on", "ended_how", "position", "start_on")} == {
        "ended_on": date(2023, 4, 1),
        "ended_how": how,
        "position": ended.leaf_index,
        "start_on": date(2022, 3, 20),
    }
    _, earlier = folded(begun)
    stored = {(agency, 1): dict(earlier[(agency, 1)])}  # a later page: the entry as the table holds it
    _, entries = folded([ended], {agency: {"name": AGENCY, "misconduct": []}}, stored)
    assert entries == {
        (agency, 1): {
            **earlier[(agency, 1)],
            "ended_on": date(2023, 4, 1),
            "ended_how": how,
            "position": ended.leaf_index,
        }
    }


def test_a_quality_review_changes_neither_the_record_nor_the_blacklist() -> None:
    log, agency = Log(), uuid4()
    registered = log.record("Agency.Registered", agency, name=AGENCY, credentials="", affiliation=None)
    agencies, entries = folded(
        [
            registered,
            log.record("Agency.QualityReviewed", agency, engagement="KE-2021", rating="良", notes="报告质量良好"),
        ]
    )
    assert (agencies, entries) == ({agency: {"name": AGENCY, "misconduct": [], **REGISTERED_BEFORE_CODES}}, {})


def test_the_credit_code_qualification_and_bar_are_kept_beside_the_agency() -> None:
    log, agency = Log(), uuid4()
    agencies, _ = folded(
        [
            log.record(
                "Agency.Registered",
                agency,
                name=AGENCY,
                credentials="",
                affiliation=None,
                credit_code="91632800864542843F",
            ),
            log.record("Agency.QualificationChanged", agency, qualification="suspended", previous="qualified"),
            log.record(
                "Agency.Barred",
                agency,
                bar_no=1,
                assessment_nos=[1, 2],
                start=date(2022, 6, 1),
                until=date(2023, 6, 1),
                ruleset_version=1,
            ),
        ]
    )
    assert agencies[agency] == {
        "name": AGENCY,
        "misconduct": [],
        "credit_code": "91632800864542843F",
        "qualification": "suspended",
        "barred_until": date(2023, 6, 1),
    }
    registered_before = Log()
    old = uuid4()
    later, _ = folded(
        [
            registered_before.record("Agency.Registered", old, name="老机构", credentials="", affiliation=None),
            registered_before.record("Agency.CreditCodeRecorded", old, credit_code="916300001036648540"),
        ]
    )
    assert later[old]["credit_code"] == "916300001036648540"
