"""Unit tests for departments, agencies and the blacklist, the indicator library, rulesets and samples.

No database: the aggregates are driven directly and their pending events inspected.

Over 500 lines: departments, agencies, the blacklist and the catalogue's aggregates, tested on the same small
fixtures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent

from ledger.domain.agencies import Agency, agency_id, key_engagement, overall_engagement
from ledger.domain.catalogue import IndicatorLibrary, Ruleset
from ledger.domain.credit_code import check_character, organisation_check_character
from ledger.domain.errors import DomainError
from ledger.domain.organisations import ASSESSMENT_DIMENSIONS, Department, department_id
from ledger.domain.rules import DEFAULT_PARAMETERS, RuleParameters
from ledger.domain.values import SYSTEM, Attribution, Principal
from ledger.store.transcodings import ledger_mapper
from tests.ledger.domain.project_support import mutating

D = Decimal
P = DEFAULT_PARAMETERS
FINANCE = Principal("fin-01", "finance", "市财政局")
DEPT = Principal("edu-01", "department", "教育局")


def digest(n: int) -> str:
    return f"{n:064x}"


def refused(aggregate: Any, code: str, call: Callable[[], object]) -> DomainError:
    """``call`` is refused with ``code`` and records nothing."""
    before = len(aggregate.pending_events)
    with pytest.raises(DomainError) as excinfo:
        call()
    assert excinfo.value.code == code, excinfo.value
    assert len(aggregate.pending_events) == before
    return excinfo.value


def last_event(aggregate: Any) -> Any:
    return aggregate.pending_events[-1]


def assert_attributed(event: Any, principal: Principal, on: date, reason: str, evidence: list[str]) -> None:
    assert (event.principal, event.effective_on, event.reason, event.evidence) == (principal, on, reason, evidence)


# ---------------------------------------------------------------------------
# Department 部门
# ---------------------------------------------------------------------------


def department() -> Department:
    return Department.register("教育局", Attribution(FINANCE, date(2021, 1, 4), "登记"))


def six(**overrides: Decimal) -> dict[str, Decimal]:
    return {**dict.fromkeys(ASSESSMENT_DIMENSIONS, D(80)), **overrides}


def test_department_registration_is_idempotent_by_name() -> None:
    dept = department()
    assert dept.id == department_id("教育局")
    assert dept.name == "教育局"
    assert dept.overall_goals == {}
    assert dept.assessments == {}


def test_department_name_stored_exactly_as_given() -> None:
    assert Department.register("衛生健康委員會", Attribution(FINANCE, date(2021, 1, 4))).name == "衛生健康委員會"


def test_overall_goals_per_year() -> None:
    dept = department()
    dept.set_overall_goals(
        2021, ["义务教育均衡发展", "学生营养改善"], Attribution(FINANCE, date(2021, 1, 10), "年度目标", [digest(1)])
    )
    assert dept.overall_goals == {"2021": ["义务教育均衡发展", "学生营养改善"]}
    assert_attributed(last_event(dept), FINANCE, date(2021, 1, 10), "年度目标", [digest(1)])
    refused(dept, "invalid-value", lambda: dept.set_overall_goals(2022, [], Attribution(FINANCE, date(2022, 1, 10))))


def test_assessment_total_is_the_mean_of_six_dimensions() -> None:
    dept = department()
    scores = dict(zip(ASSESSMENT_DIMENSIONS, [D(80), D(85), D(90), D(70), D(75), D(95)], strict=True))
    total = dept.assess(2021, scores, Attribution(FINANCE, date(2022, 3, 1), "综合考评", [digest(2)]))
    assert total == D("82.50")
    assert dept.assessments["2021"] == {"scores": scores, "total": D("82.50")}
    event = last_event(dept)
    assert isinstance(event, Department.ComprehensivelyAssessed)
    assert event.total == D("82.50")
    assert_attributed(event, FINANCE, date(2022, 3, 1), "综合考评", [digest(2)])


def test_assessment_mean_is_quantized_to_two_places() -> None:
    dept = department()
    total = dept.assess(2021, six(running_cost=D(81)), Attribution(FINANCE, date(2022, 3, 1)))
    assert total == D("80.17")  # 481 / 6 = 80.1666…


@pytest.mark.parametrize(
    "scores",
    [
        pytest.param({name: D(80) for name in ASSESSMENT_DIMENSIONS[:5]}, id="missing-one"),
        pytest.param({**six(), "innovation": D(80)}, id="extra-one"),
        pytest.param({}, id="empty"),
    ],
)
def test_assessment_requires_exactly_the_six_dimensions(scores: dict[str, Decimal]) -> None:
    dept = department()
    refused(dept, "invalid-value", lambda: dept.assess(2021, scores, Attribution(FINANCE, date(2022, 3, 1))))


@pytest.mark.parametrize("bad", [D("100.01"), D(-1), "NaN"])
def test_assessment_scores_are_0_to_100(bad: Decimal | str) -> None:
    dept = department()
    refused(
        dept,
        "invalid-score",
        lambda: dept.assess(
            2021,
            six(satisfaction=bad),  # type: ignore[arg-type]  # "NaN" as text: refused
            Attribution(FINANCE, date(2022, 3, 1)),
        ),
    )


def test_assessment_once_per_year() -> None:
    dept = department()
    dept.assess(2021, six(), Attribution(FINANCE, date(2022, 3, 1)))
    refused(dept, "already-decided", lambda: dept.assess(2021, six(), Attribution(FINANCE, date(2022, 3, 2))))
    dept.assess(2022, six(), Attribution(FINANCE, date(2023, 3, 1)))
    assert set(dept.assessments) == {"2021", "2022"}


# ---------------------------------------------------------------------------
# Agency 第三方机构 and the blacklist 失信黑名单
# ---------------------------------------------------------------------------

START = date(2021, 7, 1)
UNTIL = date(2024, 7, 1)
CODE = "91632800864542843F"  # 统一社会信用代码, its check characters right (GB 32100, GB 11714)
OTHER_CODE = "916300001036648540"


def agency() -> Agency:
    return Agency.register("青海某会计师事务所", "证书 QH-001", None, CODE, Attribution(FINANCE, date(2021, 1, 4)))


def with_misconduct() -> Agency:
    firm = agency()
    assert (
        firm.record_misconduct(
            "untrue_results", "评价结果不实", Attribution(FINANCE, date(2021, 6, 20), evidence=[digest(3)])
        )
        == 1
    )
    return firm


def blacklist(firm: Agency, on: date = START, until: date = UNTIL, reason: str = "评价结果不实") -> int:
    return firm.blacklist([], until, True, Attribution(FINANCE, on, reason, [digest(4)]))


def test_agency_registration() -> None:
    firm = Agency.register("某咨询评估有限公司", "证书", "教育局", OTHER_CODE, Attribution(FINANCE, date(2021, 1, 4)))
    assert firm.id == agency_id("某咨询评估有限公司")
    assert (firm.credit_code, firm.qualification) == (OTHER_CODE, "qualified")
    assert firm.affiliation == "教育局"
    assert firm.blacklistings == []
    assert not firm.is_blacklisted(date(2021, 1, 4))


def test_misconduct_is_recorded_with_evidence() -> None:
    firm = agency()
    number = firm.record_misconduct(
        "falsification", "弄虚作假", Attribution(FINANCE, date(2021, 6, 1), evidence=[digest(6)])
    )
    assert firm.misconduct == [
        {
            "no": number,
            "kind": "falsification",
            "description": "弄虚作假",
            "evidence": [digest(6)],
            "recorded_on": date(2021, 6, 1),
            "engagements": [],
        }
    ]
    refused(firm, "invalid-value", lambda: firm.record_misconduct("other", " ", Attribution(FINANCE, date(2021, 6, 1))))


def test_blacklist_requires_recorded_misconduct() -> None:
    firm = agency()
    refused(firm, "no-misconduct-recorded", lambda: blacklist(firm))
    assert not firm.is_blacklisted(START)


def test_blacklist_cites_known_misconduct_only() -> None:
    firm = with_misconduct()
    refused(firm, "invalid-value", lambda: firm.blacklist([1, 2], UNTIL, True, Attribution(FINANCE, START)))


def test_blacklist_must_end_after_it_starts() -> None:
    firm = with_misconduct()
    refused(firm, "invalid-date", lambda: blacklist(firm, until=START))


def test_blacklisting_records_start_until_and_cited_misconduct() -> None:
    firm = with_misconduct()
    assert blacklist(firm) == 1
    event = last_event(firm)
    assert isinstance(event, Agency.Blacklisted)
    assert (event.start, event.until, event.misconduct_nos, event.public) == (START, UNTIL, [1], True)
    assert_attributed(event, FINANCE, START, "评价结果不实", [digest(4)])


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2021, 6, 30), False),
        (START, True),
        (date(2023, 1, 1), True),
        (date(2024, 6, 30), True),
        (UNTIL, False),
        (date(2025, 1, 1), False),
    ],
)
def test_is_blacklisted_within_start_inclusive_until_exclusive(on: date, expected: bool) -> None:
    firm = with_misconduct()
    blacklist(firm)
    assert firm.is_blacklisted(on) is expected


def test_cannot_blacklist_twice_while_active() -> None:
    firm = with_misconduct()
    blacklist(firm)
    refused(firm, "agency-blacklisted", lambda: blacklist(firm, on=date(2022, 1, 1), until=date(2025, 1, 1)))


def test_lifting_needs_a_reason_and_ends_the_blacklisting() -> None:
    firm = with_misconduct()
    blacklist(firm)
    lifted_on = date(2022, 3, 1)
    refused(firm, "reason-required", lambda: firm.lift_blacklisting(Attribution(FINANCE, lifted_on, "  ")))
    firm.lift_blacklisting(Attribution(FINANCE, lifted_on, "申诉成立", [digest(8)]))
    assert_attributed(last_event(firm), FINANCE, lifted_on, "申诉成立", [digest(8)])
    assert firm.blacklistings[0]["ended"] == lifted_on
    assert firm.blacklistings[0]["ended_how"] == "lifted"
    assert not firm.is_blacklisted(lifted_on)
    assert not firm.is_blacklisted(date(2023, 1, 1))
    refused(firm, "not-blacklisted", lambda: firm.lift_blacklisting(Attribution(FINANCE, date(2022, 4, 1), "再次")))
    # After the lift it may be blacklisted again for new facts.
    assert blacklist(firm, on=date(2022, 6, 1), until=date(2025, 6, 1)) == 2


def test_lifting_when_not_blacklisted_is_refused() -> None:
    firm = with_misconduct()
    refused(firm, "not-blacklisted", lambda: firm.lift_blacklisting(Attribution(FINANCE, START, "申诉")))


def test_expire_blacklistings_records_once_when_the_period_ends() -> None:
    firm = with_misconduct()
    blacklist(firm)
    assert firm.expire_blacklistings(date(2024, 6, 30), SYSTEM) == []
    assert firm.expire_blacklistings(UNTIL, SYSTEM) == [1]
    assert firm.expire_blacklistings(date(2024, 7, 2), SYSTEM) == []
    expired = [event for event in firm.pending_events if isinstance(event, Agency.BlacklistExpired)]
    assert len(expired) == 1
    assert (expired[0].principal, expired[0].effective_on) == (SYSTEM, UNTIL)
    assert firm.blacklistings[0]["ended_how"] == "expired"
    assert not firm.is_blacklisted(UNTIL)


def test_expiry_records_the_end_date_even_when_the_job_runs_late() -> None:
    firm = with_misconduct()
    blacklist(firm)
    assert firm.expire_blacklistings(date(2024, 9, 1), SYSTEM) == [1]
    assert firm.blacklistings[0]["ended"] == UNTIL


def test_lifted_blacklisting_never_expires() -> None:
    firm = with_misconduct()
    blacklist(firm)
    firm.lift_blacklisting(Attribution(FINANCE, date(2022, 3, 1), "申诉成立"))
    assert firm.expire_blacklistings(date(2025, 1, 1), SYSTEM) == []


def test_is_blacklisted_for_a_past_date_survives_expiry() -> None:
    firm = with_misconduct()
    blacklist(firm)
    assert firm.is_blacklisted(date(2023, 1, 1))
    firm.expire_blacklistings(UNTIL, SYSTEM)
    assert firm.is_blacklisted(date(2023, 1, 1))


def test_a_blacklisting_is_always_public() -> None:
    firm = with_misconduct()
    refused(
        firm, "blacklisting-public", lambda: firm.blacklist([], UNTIL, False, Attribution(FINANCE, START, "不公开"))
    )


# ---------------------------------------------------------------------------
# 统一社会信用代码, 资格, 工作质量考核
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (CODE, CODE),
        ("91632800864542843f", CODE),  # lower case
        ("９１６３２８００８６４５４２８４３Ｆ", CODE),  # full width, as typed by a Chinese input method
        (" 9163 2800 8645 4284 3F ", CODE),
        ("91440300708461136T", "91440300708461136T"),  # a published code
    ],
)
def test_a_credit_code_is_stored_in_its_canonical_form(given: str, stored: str) -> None:
    firm = Agency.register("某所", "证书", None, given, Attribution(FINANCE, date(2021, 1, 4)))
    assert firm.credit_code == stored
    assert isinstance(firm.pending_events[0], Agency.Registered)
    assert firm.pending_events[0].credit_code == stored


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("91632800864542843", "18"),  # too short
        ("91632800864542843FF", "18"),
        ("91632800864542843I", "I"),  # a letter the code never uses
        ("91632800864542843G", "应为 F"),  # the GB 32100 check character
        ("9163280086454284", "18"),
        ("916328008645428450", "应为"),  # 17th changed: GB 32100 check fails first
    ],
)
def test_a_credit_code_is_checked(given: str, why: str) -> None:
    with pytest.raises(DomainError) as excinfo:
        Agency.register("某所", "证书", None, given, Attribution(FINANCE, date(2021, 1, 4)))
    assert excinfo.value.code == "invalid-credit-code"
    assert why in str(excinfo.value)


def test_the_organisation_code_inside_is_checked_too() -> None:
    """Characters 9–17 are an organisation code (GB 11714) whose own check character is wrong here, while the GB 32100
    check character over the whole is recomputed to be right: still refused."""
    body = "86454284"
    wrong = "4" if organisation_check_character(body) != "4" else "5"
    first17 = f"91632800{body}{wrong}"
    with pytest.raises(DomainError, match="组织机构代码") as excinfo:
        Agency.register("某所", "证书", None, first17 + check_character(first17), Attribution(FINANCE, START))
    assert excinfo.value.code == "invalid-credit-code"


def test_an_agency_registered_before_codes_loads_and_gets_its_code_once() -> None:
    """Its registration as an earlier version stored it (no ``credit_code``, no ``class_version``): upcast."""
    mapper = ledger_mapper()
    current = mapper.to_stored_event(agency().collect_events()[0])
    old_state = {k: v for k, v in json.loads(current.state).items() if k not in ("credit_code", "class_version")}
    old = StoredEvent(current.originator_id, 1, current.topic, json.dumps(old_state).encode())
    firm: Any = mutating(mapper.to_domain_event(old)).mutate(None)
    assert (firm.credit_code, firm.qualification, firm.bars) == (None, "qualified", [])
    firm.record_credit_code("91632800864542843f", Attribution(FINANCE, START, "补录"))
    assert firm.credit_code == CODE
    refused(firm, "credit-code-recorded", lambda: firm.record_credit_code(CODE, Attribution(FINANCE, START)))
    refused(agency(), "credit-code-recorded", lambda: agency().record_credit_code(CODE, Attribution(FINANCE, START)))


def test_qualification_is_suspended_reinstated_and_revoked_for_good() -> None:
    firm = agency()
    assert firm.is_qualified
    refused(firm, "reason-required", lambda: firm.change_qualification("suspended", Attribution(FINANCE, START)))
    refused(
        firm,
        "qualification-unchanged",
        lambda: firm.change_qualification("qualified", Attribution(FINANCE, START, "x")),
    )
    refused(firm, "invalid-value", lambda: firm.change_qualification("paused", Attribution(FINANCE, START, "x")))
    firm.change_qualification("suspended", Attribution(FINANCE, START, "年检未通过"))
    assert not firm.is_qualified
    event = last_event(firm)
    assert (event.qualification, event.previous, event.reason) == ("suspended", "qualified", "年检未通过")
    firm.change_qualification("qualified", Attribution(FINANCE, date(2021, 8, 1), "整改后恢复"))
    assert firm.is_qualified
    firm.change_qualification("revoked", Attribution(FINANCE, date(2021, 9, 1), "吊销执业资格"))
    refused(
        firm,
        "qualification-revoked",
        lambda: firm.change_qualification("qualified", Attribution(FINANCE, date(2021, 9, 2), "申诉")),
    )


def assess(firm: Agency, evaluation: str, quality: Decimal, on: date, params: RuleParameters = P) -> int | None:
    engagement = key_engagement(UUID(int=1), evaluation)
    return firm.assess_quality(engagement, quality, "考核", params, 1, Attribution(FINANCE, on, "工作质量考核"))


def test_a_low_quality_score_is_a_warning_and_two_in_the_window_bar_the_agency() -> None:
    firm = agency()
    assert assess(firm, "KE-1", D(60), date(2021, 3, 1)) is None  # at the line: no warning
    assert assess(firm, "KE-2", D("59.5"), date(2021, 4, 1)) is None  # the first warning
    assert [item["warning"] for item in firm.quality_assessments] == [False, True]
    assert firm.bar_on(date(2021, 5, 1)) is None
    assert assess(firm, "KE-3", D(40), date(2022, 6, 1)) == 1  # the second within 730 days
    bar = firm.bars[0]
    assert (bar["start"], bar["until"], bar["assessments"]) == (date(2022, 6, 1), date(2023, 6, 1), [2, 3])
    assert firm.bar_on(date(2022, 6, 1)) == bar
    assert firm.bar_on(date(2023, 5, 31)) == bar
    assert firm.bar_on(date(2023, 6, 1)) is None
    assert firm.bar_on(date(2022, 5, 31)) is None
    assert isinstance(last_event(firm), Agency.Barred)
    # the warnings a bar counted count no more: the next one alone bars nothing
    assert assess(firm, "KE-4", D(10), date(2022, 7, 1)) is None
    refused(firm, "already-decided", lambda: assess(firm, "KE-4", D(90), date(2022, 7, 2)))
    refused(firm, "invalid-score", lambda: assess(firm, "KE-5", D(101), date(2022, 7, 2)))


def test_a_quality_assessment_names_an_overall_evaluation_once_and_old_ones_load_as_key_evaluations() -> None:
    """工作质量考核 of an overall evaluation counts as any engagement's; an assessment stored before engagements had
    kinds (``project_id`` and ``evaluation_id``), and an agency's snapshot holding one, load naming a key
    evaluation."""
    firm = agency()
    overall = overall_engagement(UUID(int=2), 1)
    assess(firm, "KE-1", D(90), date(2021, 3, 1))
    assert firm.assess_quality(overall, D(50), "底稿缺失", P, 1, Attribution(FINANCE, date(2021, 4, 1))) is None
    assert firm.quality_assessments[1]["engagement"] == overall
    assert firm.quality_assessments[1]["warning"]
    again = overall_engagement(UUID(int=2), 1)
    refused(firm, "already-decided", lambda: firm.assess_quality(again, D(90), "", P, 1, Attribution(FINANCE, START)))
    assert firm.assess_quality(overall_engagement(UUID(int=2), 2), D(40), "", P, 1, Attribution(FINANCE, START)) == 1
    mapper = ledger_mapper()
    registered, first = (mapper.to_stored_event(item) for item in firm.collect_events()[:2])
    state = json.loads(first.state)
    engagement = state.pop("engagement")
    uuid = {"_type_": "uuid_hex", "_data_": UUID(engagement["project_id"]).hex}
    state.update(project_id=uuid, evaluation_id=engagement["evaluation_id"], class_version=1)
    old = StoredEvent(first.originator_id, 2, first.topic, json.dumps(state).encode())
    replayed: Any = mutating(mapper.to_domain_event(registered)).mutate(None)
    replayed = mutating(mapper.to_domain_event(old)).mutate(replayed)
    assert replayed.quality_assessments == firm.quality_assessments[:1]
    snapshot = mapper.to_stored_event(Snapshot.take(replayed))
    state = json.loads(snapshot.state)
    for item in state["state"]["quality_assessments"]:
        item.update(project_id=uuid, evaluation_id=item.pop("engagement")["evaluation_id"])
    state["state"]["class_version"] = 3
    old = StoredEvent(snapshot.originator_id, 2, snapshot.topic, json.dumps(state).encode())
    restored: Any = mutating(mapper.to_domain_event(old)).mutate(None)
    assert restored.quality_assessments == firm.quality_assessments[:1]
    refused(restored, "already-decided", lambda: assess(restored, "KE-1", D(70), date(2021, 5, 1)))


def test_warnings_outside_the_window_do_not_count() -> None:
    firm = agency()
    assess(firm, "KE-1", D(50), date(2021, 1, 5))
    assert assess(firm, "KE-2", D(50), date(2023, 1, 5)) is None  # 730 days later: outside the window
    params = RuleParameters(quality_warnings_to_bar=1, quality_bar_days=30, quality_warning_below=D(80))
    assert assess(firm, "KE-3", D(75), date(2023, 2, 1), params) == 1
    assert firm.bars[0]["until"] == date(2023, 3, 3)


def test_the_engagements_a_misconduct_names_are_what_a_blacklisting_cites() -> None:
    firm = agency()
    firm.record_misconduct(
        "untrue_results",
        "结果不实",
        Attribution(FINANCE, date(2021, 6, 1)),
        [{"project_id": "p1", "evaluation_id": "KE-2021-A-1"}],
    )
    firm.record_misconduct("other", "迟报", Attribution(FINANCE, date(2021, 6, 2)))
    assert firm.engagements_cited([2]) == []
    assert (
        firm.engagements_cited([1])
        == firm.engagements_cited([])
        == [{"project_id": "p1", "evaluation_id": "KE-2021-A-1"}]
    )


# ---------------------------------------------------------------------------
# Indicator library 指标库
# ---------------------------------------------------------------------------


def definition(**overrides: str) -> dict[str, str]:
    base = {
        "name": "受益学生人数",
        "level1": "output",
        "level2": "quantity",
        "operator": ">=",
        "standard": "按在校生人数",
        "unit": "人",
        "industry": "教育",
    }
    return {**base, **overrides}


def library() -> IndicatorLibrary:
    lib = IndicatorLibrary.open(FINANCE, date(2021, 1, 4))
    lib.define("EDU-001", definition(), Attribution(FINANCE, date(2021, 1, 5), "行业核心指标", [digest(9)]))
    return lib


def test_indicator_defined_at_version_one() -> None:
    lib = library()
    assert lib.indicators["EDU-001"] == {**definition(), "version": 1, "retired": False}
    assert_attributed(last_event(lib), FINANCE, date(2021, 1, 5), "行业核心指标", [digest(9)])


def test_indicator_defined_twice_is_refused() -> None:
    lib = library()
    refused(lib, "already-exists", lambda: lib.define("EDU-001", definition(), Attribution(FINANCE, date(2021, 1, 6))))


def test_indicator_revision_increments_the_version() -> None:
    lib = library()
    lib.revise("EDU-001", definition(standard="按学籍人数"), Attribution(FINANCE, date(2021, 6, 1), "口径调整"))
    assert lib.indicators["EDU-001"]["version"] == 2
    assert lib.indicators["EDU-001"]["standard"] == "按学籍人数"
    lib.revise("EDU-001", definition(unit="名"), Attribution(FINANCE, date(2021, 7, 1), "单位调整"))
    assert lib.indicators["EDU-001"]["version"] == 3
    revised = [event for event in lib.pending_events if isinstance(event, IndicatorLibrary.IndicatorRevised)]
    assert [event.definition["standard"] for event in revised] == ["按学籍人数", "按在校生人数"]


def test_unknown_indicator_cannot_be_revised_or_retired() -> None:
    lib = library()
    refused(lib, "indicator-not-found", lambda: lib.revise("X", definition(), Attribution(FINANCE, date(2021, 6, 1))))
    refused(lib, "indicator-not-found", lambda: lib.retire("X", Attribution(FINANCE, date(2021, 6, 1))))


def test_indicator_retired_once() -> None:
    lib = library()
    lib.retire("EDU-001", Attribution(FINANCE, date(2021, 12, 1), "不再适用"))
    assert lib.indicators["EDU-001"]["retired"] is True
    refused(lib, "already-decided", lambda: lib.retire("EDU-001", Attribution(FINANCE, date(2021, 12, 2))))


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({"level2": "economic"}, "invalid-indicator", id="level2-not-under-output"),
        pytest.param({"level1": "satisfaction", "level2": "quantity"}, "invalid-indicator", id="level2-wrong-tree"),
        pytest.param({"level1": "impact"}, "invalid-value", id="unknown-level1"),
        pytest.param({"operator": "~"}, "invalid-value", id="unknown-operator"),
    ],
)
def test_indicator_definition_is_validated(overrides: dict[str, str], code: str) -> None:
    lib = library()
    refused(lib, code, lambda: lib.define("EDU-002", definition(**overrides), Attribution(FINANCE, date(2021, 1, 6))))
    refused(lib, code, lambda: lib.revise("EDU-001", definition(**overrides), Attribution(FINANCE, date(2021, 1, 6))))


@pytest.mark.parametrize("shape", ["missing", "extra"])
def test_indicator_definition_has_exactly_the_expected_fields(shape: str) -> None:
    lib = library()
    bad = definition()
    if shape == "missing":
        del bad["standard"]
    else:
        bad["weight"] = "10"
    refused(lib, "invalid-indicator", lambda: lib.define("EDU-002", bad, Attribution(FINANCE, date(2021, 1, 6))))


# ---------------------------------------------------------------------------
# Ruleset 规则集
# ---------------------------------------------------------------------------


def ruleset() -> Ruleset:
    return Ruleset.establish(SYSTEM, date(2021, 1, 1))


def test_ruleset_version_one_holds_the_defaults() -> None:
    rs = ruleset()
    assert rs.current_version == 1
    assert rs.parameters() == P
    assert rs.parameters(1) == P


@pytest.mark.parametrize("version", [1, 3, 0])
def test_ruleset_version_must_be_the_next(version: int) -> None:
    rs = ruleset()
    refused(
        rs,
        "ruleset-version",
        lambda: rs.adopt(version, {"reduce_rate": "0.20"}, Attribution(FINANCE, date(2022, 1, 1), "调整")),
    )


def test_ruleset_adoption_needs_a_reason() -> None:
    rs = ruleset()
    refused(
        rs, "reason-required", lambda: rs.adopt(2, {"reduce_rate": "0.20"}, Attribution(FINANCE, date(2022, 1, 1), " "))
    )


@pytest.mark.parametrize(
    ("parameters", "code"),
    [
        pytest.param({"output_weight": "60"}, "invalid-weights", id="weights-not-100"),
        pytest.param({"reduce_rate": "0"}, "invalid-rule-parameter", id="reduce-rate-zero"),
        pytest.param({"grade_good_min": "95"}, "invalid-rule-parameter", id="grades-not-descending"),
        pytest.param({"no_such_rule": "1"}, "invalid-rule-parameter", id="unknown-key"),
        pytest.param({"blacklist_years": "3"}, "invalid-rule-parameter", id="int-as-text"),
    ],
)
def test_ruleset_parameters_are_validated(parameters: dict[str, Any], code: str) -> None:
    rs = ruleset()
    refused(rs, code, lambda: rs.adopt(2, parameters, Attribution(FINANCE, date(2022, 1, 1), "调整")))
    assert rs.current_version == 1


def test_adopted_ruleset_keeps_old_versions_retrievable() -> None:
    rs = ruleset()
    rs.adopt(
        2,
        {"reduce_rate": "0.20", "blacklist_years": 5},
        Attribution(FINANCE, date(2022, 1, 1), "财预〔2022〕调整", [digest(10)]),
    )
    assert rs.current_version == 2
    assert rs.parameters().reduce_rate == D("0.20")
    assert rs.parameters(2).blacklist_years == 5
    assert rs.parameters(1) == P
    assert isinstance(rs.parameters(2), RuleParameters)
    event = last_event(rs)
    assert event.ruleset_version == 2
    assert event.parameters == rs.versions["2"]
    assert_attributed(event, FINANCE, date(2022, 1, 1), "财预〔2022〕调整", [digest(10)])
    refused(rs, "ruleset-not-found", lambda: rs.parameters(3))


def test_unknown_misconduct_kind_is_refused() -> None:
    firm = agency()
    refused(firm, "invalid-value", lambda: firm.record_misconduct("rudeness", "态度差", Attribution(FINANCE, START)))
