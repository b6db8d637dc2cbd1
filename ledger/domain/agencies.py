"""Third-party agencies (第三方机构): registration with the 统一社会信用代码, 资格, 工作质量考核 with its warnings and
bars, misconduct and the blacklist (失信黑名单). Apart from :mod:`ledger.domain.organisations` so that the rule
parameters, which read the assessment dimensions there, and an agency's checks, which read the parameters, make no
circle."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.domain.base import LedgerAggregate, keyed_id, recorded_ids, require_not_before
from ledger.domain.credit_code import credit_code as checked_credit_code
from ledger.domain.errors import InvalidInput, RuleViolation
from ledger.domain.organisations import _Registered
from ledger.domain.values import Attribution, Principal, enum_value, score

if TYPE_CHECKING:
    from ledger.domain.rules.parameters import RuleParameters


def agency_id(name: str) -> UUID:
    """The id an agency registered as ``name`` gets (from the name's key: one agency however spelled)."""
    return keyed_id("agency", name)


def agency_ids(name: str) -> tuple[UUID, ...]:
    """Every id an agency of this name may be recorded under (:func:`ledger.domain.base.recorded_ids`)."""
    return recorded_ids("agency", name)


class Misconduct(StrEnum):
    FALSIFICATION = "falsification"  # 弄虚作假
    UNTRUE_RESULTS = "untrue_results"  # 评价结果不实
    OTHER = "other"


class EngagementKind(StrEnum):
    """What an engagement (an evaluation commissioned to an agency) a misconduct record names is."""

    KEY_EVALUATION = "key_evaluation"  # 项目重点评价: ``{"project_id", "evaluation_id"}`` (as first recorded, no kind)
    OVERALL_EVALUATION = "overall_evaluation"  # 整体绩效评价: ``{"kind", "goals_id", "evaluation_no"}``


def engagement_kind(engagement: dict[str, str]) -> EngagementKind:
    """The kind of a named engagement; one recorded before overall evaluations could be named has none: a key
    evaluation's."""
    return EngagementKind(engagement.get("kind", EngagementKind.KEY_EVALUATION.value))


def key_engagement(project_id: UUID, evaluation_id: str) -> dict[str, str]:
    """The reference to key evaluation ``evaluation_id`` of project ``project_id`` (as first recorded: no kind)."""
    return {"project_id": str(project_id), "evaluation_id": evaluation_id}


def overall_engagement(goals_id: UUID, evaluation_no: int) -> dict[str, str]:
    """The reference to overall evaluation ``evaluation_no`` of the overall goals ``goals_id``."""
    return {
        "kind": EngagementKind.OVERALL_EVALUATION.value,
        "goals_id": str(goals_id),
        "evaluation_no": str(evaluation_no),
    }


class Qualification(StrEnum):
    """资格: whether the agency may be commissioned. Finance records each change with its reason."""

    QUALIFIED = "qualified"  # 资格有效
    SUSPENDED = "suspended"  # 资格暂停 (may be reinstated)
    REVOKED = "revoked"  # 资格撤销 (final)


class Agency(_Registered):
    """A third-party evaluator (第三方机构): its 统一社会信用代码, its qualification (资格), the quality of its work
    (工作质量考核, with its warnings and bars) and its credit record (失信黑名单)."""

    TOPIC_MODULE = "ledger.organisations"  # stored topics keep the module they were first recorded under

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        credentials: str
        affiliation: str | None  # a department it belongs to, if any (回避)
        quality_reviews: list[dict[str, Any]]
        misconduct: list[dict[str, Any]]
        blacklistings: list[dict[str, Any]]
        credit_code: str | None  # None: registered before codes were required, and none recorded since
        qualification: str  # Qualification
        quality_assessments: list[dict[str, Any]]  # 工作质量考核, each of one engagement
        bars: list[dict[str, Any]]  # 暂停承接 after repeated warnings

    class Registered(LedgerAggregate.Created):
        """第三方机构登记. ``credit_code``: its 统一社会信用代码 (version 2; None in a registration stored before)."""

        name: str
        credentials: str
        affiliation: str | None
        credit_code: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["credit_code"] = None

        def apply(self, agency: Agency) -> None:
            agency.name = self.name
            agency.registered_on = self.effective_on
            agency.credentials = self.credentials
            agency.affiliation = self.affiliation
            agency.quality_reviews = []
            agency.misconduct = []
            agency.blacklistings = []
            agency.credit_code = self.credit_code
            agency.qualification = Qualification.QUALIFIED.value
            agency.quality_assessments = []
            agency.bars = []

    class CreditCodeRecorded(LedgerAggregate.Event):
        """统一社会信用代码 of an agency registered before codes were required."""

        credit_code: str

        def apply(self, agency: Agency) -> None:
            agency.credit_code = self.credit_code

    class QualificationChanged(LedgerAggregate.Event):
        """资格 suspended, reinstated or revoked by finance, with its reason."""

        qualification: str
        previous: str

        def apply(self, agency: Agency) -> None:
            agency.qualification = self.qualification

    class QualityAssessed(LedgerAggregate.Event):
        """工作质量考核 of one engagement commissioned to the agency: the score, and whether it is a warning (below
        the ruleset's ``quality_warning_below``). ``engagement`` (version 2) names it as misconduct does
        (:class:`EngagementKind`): a project's key evaluation ``{"project_id", "evaluation_id"}`` — what an assessment
        stored before recorded, as ``project_id`` and ``evaluation_id`` — or an overall evaluation ``{"kind",
        "goals_id", "evaluation_no"}``."""

        assessment_no: int
        engagement: dict[str, str]
        score: Decimal
        warning: bool
        notes: str
        ruleset_version: int

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["engagement"] = key_engagement(state.pop("project_id"), state.pop("evaluation_id"))

        def apply(self, agency: Agency) -> None:
            agency.quality_assessments.append(
                {
                    "no": self.assessment_no,
                    "engagement": dict(self.engagement),
                    "score": self.score,
                    "warning": self.warning,
                    "on": self.effective_on,
                    "barred_by": None,
                }
            )

    class Barred(LedgerAggregate.Event):
        """暂停承接: the warnings it counts reached the ruleset's number within its window; not commissioned from
        ``start`` until ``until``."""

        bar_no: int
        assessment_nos: list[int]
        start: date
        until: date
        ruleset_version: int

        def apply(self, agency: Agency) -> None:
            agency.bars.append(
                {"no": self.bar_no, "assessments": list(self.assessment_nos), "start": self.start, "until": self.until}
            )
            for item in agency.quality_assessments:
                if item["no"] in self.assessment_nos:
                    item["barred_by"] = self.bar_no

    class QualityReviewed(LedgerAggregate.Event):
        """质量评价 of one engagement."""

        engagement: str
        rating: str
        notes: str

        def apply(self, agency: Agency) -> None:
            agency.quality_reviews.append({"engagement": self.engagement, "rating": self.rating, "notes": self.notes})

    class MisconductRecorded(LedgerAggregate.Event):
        """失信行为. ``engagements``: the evaluations it concerns (version 2; none in a record stored before): a key
        evaluation ``{"project_id", "evaluation_id"}``, an overall evaluation ``{"kind": "overall_evaluation",
        "goals_id", "evaluation_no"}`` (:class:`EngagementKind`). A blacklisting citing it voids their scores."""

        misconduct_no: int
        kind: str
        description: str
        engagements: list[dict[str, str]]

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["engagements"] = []

        def apply(self, agency: Agency) -> None:
            agency.misconduct.append(
                {
                    "no": self.misconduct_no,
                    "kind": self.kind,
                    "description": self.description,
                    "evidence": list(self.evidence),
                    "recorded_on": self.effective_on,
                    "engagements": [dict(item) for item in self.engagements],
                }
            )

    class Blacklisted(LedgerAggregate.Event):
        """列入失信黑名单, published."""

        blacklisting_no: int
        misconduct_nos: list[int]
        start: date
        until: date
        public: bool

        def apply(self, agency: Agency) -> None:
            agency.blacklistings.append(
                {
                    "no": self.blacklisting_no,
                    "misconduct": list(self.misconduct_nos),
                    "start": self.start,
                    "until": self.until,
                    "public": self.public,
                    "ended": None,
                    "ended_how": None,
                }
            )

    class BlacklistLifted(LedgerAggregate.Event):
        """Lifted on appeal (申诉撤销)."""

        blacklisting_no: int

        def apply(self, agency: Agency) -> None:
            agency.blacklistings[self.blacklisting_no - 1].update(ended=self.effective_on, ended_how="lifted")

    class BlacklistExpired(LedgerAggregate.Event):
        """The period ended (raised by the scheduler)."""

        blacklisting_no: int

        def apply(self, agency: Agency) -> None:
            agency.blacklistings[self.blacklisting_no - 1].update(ended=self.effective_on, ended_how="expired")

    # Version 2 added registered_on, version 3 the credit code, the qualification, quality assessments and bars,
    # version 4 a quality assessment's engagement by kind; older snapshots are upcast (None: no lower bound known; no
    # code; qualified, as every agency then was; a key evaluation, all an assessment could then name).
    class_version = 4

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["registered_on"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["credit_code"] = None
        state["qualification"] = Qualification.QUALIFIED.value
        state["quality_assessments"] = []
        state["bars"] = []
        for item in state.get("misconduct", []):
            item.setdefault("engagements", [])

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        for item in state["quality_assessments"]:
            item["engagement"] = key_engagement(item.pop("project_id"), item.pop("evaluation_id"))

    @classmethod
    def register(
        cls, name: str, credentials: str, affiliation: str | None, credit_code: str, by: Attribution
    ) -> Agency:
        """Registered with its 统一社会信用代码 (checked, stored in its canonical form), qualified."""
        return cls._create(
            cls.Registered,
            id=agency_id(name),
            **by.event_fields(),
            name=name,
            credentials=credentials,
            affiliation=affiliation,
            credit_code=checked_credit_code(credit_code),
        )

    def record_credit_code(self, credit_code: str, by: Attribution) -> None:
        """The code of an agency registered before codes were required; once (409 ``credit-code-recorded``)."""
        code = checked_credit_code(credit_code)
        if self.credit_code is not None:
            raise RuleViolation(f"{self.name}'s credit code is {self.credit_code}", code="credit-code-recorded")
        self.record(self.CreditCodeRecorded, by, credit_code=code)

    def change_qualification(self, qualification: str, by: Attribution) -> None:
        """资格 suspended, reinstated (qualified again) or revoked, with the reason; a revocation is final."""
        status = enum_value(Qualification, qualification, "qualification")
        if self.qualification == Qualification.REVOKED:
            raise RuleViolation(f"{self.name}'s qualification was revoked", code="qualification-revoked")
        if status == self.qualification:
            raise RuleViolation(f"{self.name} is already {status.value}", code="qualification-unchanged")
        if not by.reason.strip():
            raise InvalidInput("a change of qualification must give its reason", code="reason-required", field="reason")
        self.record(self.QualificationChanged, by, qualification=status.value, previous=self.qualification)

    @property
    def is_qualified(self) -> bool:
        return self.qualification == Qualification.QUALIFIED

    def bar_on(self, on: date) -> dict[str, Any] | None:
        """The bar (暂停承接) in force on ``on``, if any."""
        return next((bar for bar in self.bars if bar["start"] <= on < bar["until"]), None)

    def assess_quality(
        self,
        engagement: dict[str, str],
        quality: Decimal,
        notes: str,
        params: RuleParameters,
        ruleset_version: int,
        by: Attribution,
    ) -> int | None:
        """工作质量考核 of one engagement, once each (409 ``already-decided``): a score below the ruleset's
        ``quality_warning_below`` is a warning; the ``quality_warnings_to_bar``-th warning within
        ``quality_warning_window_days`` (counting only warnings no bar counted yet) bars the agency for
        ``quality_bar_days`` from the day of the review. Returns the bar's number, if it was barred. ``engagement``:
        a key evaluation's (:func:`key_engagement`) or an overall evaluation's (:func:`overall_engagement`); the
        application checks that it exists and is this agency's."""
        checked = score(quality, "score")
        if any(item["engagement"] == engagement for item in self.quality_assessments):
            raise RuleViolation(
                f"engagement {' '.join(engagement.values())} is already assessed", code="already-decided"
            )
        number = len(self.quality_assessments) + 1
        warning = checked < params.quality_warning_below
        self.record(
            self.QualityAssessed,
            by,
            assessment_no=number,
            engagement=dict(engagement),
            score=checked,
            warning=warning,
            notes=notes,
            ruleset_version=ruleset_version,
        )
        if not warning:
            return None
        window_start = by.effective_on - timedelta(days=params.quality_warning_window_days)
        counted = [
            item["no"]
            for item in self.quality_assessments
            if item["warning"] and item["barred_by"] is None and item["on"] > window_start
        ]
        if len(counted) < params.quality_warnings_to_bar:
            return None
        bar_no = len(self.bars) + 1
        self.record(
            self.Barred,
            Attribution(
                by.principal,
                by.effective_on,
                f"{len(counted)} quality warnings within {params.quality_warning_window_days} days",
                by.evidence,
            ),
            bar_no=bar_no,
            assessment_nos=counted,
            start=by.effective_on,
            until=by.effective_on + timedelta(days=params.quality_bar_days),
            ruleset_version=ruleset_version,
        )
        return bar_no

    def blacklisting_on(self, on: date) -> dict[str, Any] | None:
        """The blacklisting in force on ``on``, whether or not it has ended since."""
        for entry in self.blacklistings:
            end = entry["ended"] if entry["ended"] is not None else entry["until"]
            if entry["start"] <= on < end:
                return entry
        return None

    def is_blacklisted(self, on: date) -> bool:
        return self.blacklisting_on(on) is not None

    def record_misconduct(
        self, kind: str, description: str, by: Attribution, engagements: list[dict[str, str]] | None = None
    ) -> int:
        """The description says what happened: the event records no reason besides it (as first recorded).
        ``engagements``: the key evaluations concerned (the application checks they are this agency's)."""
        enum_value(Misconduct, kind, "kind")
        if not description.strip():
            raise InvalidInput("describe the misconduct", field="description")
        number = len(self.misconduct) + 1
        self.record(
            self.MisconductRecorded,
            replace(by, reason=""),
            misconduct_no=number,
            kind=kind,
            description=description,
            engagements=[dict(item) for item in engagements or []],
        )
        return number

    def engagements_cited(self, misconduct_nos: list[int]) -> list[dict[str, str]]:
        """The engagements the misconduct records ``misconduct_nos`` (every one, if empty) name."""
        cited = set(misconduct_nos) or {item["no"] for item in self.misconduct}
        return [
            engagement for item in self.misconduct if item["no"] in cited for engagement in item.get("engagements", [])
        ]

    def blacklist(self, misconduct_nos: list[int], until: date, public: bool, by: Attribution) -> int:
        """列入失信黑名单, always published (409 ``blacklisting-public`` for a private one: the plan publishes every
        entry on 信用青海; blacklistings stored before this rule keep what they said)."""
        if not public:
            raise RuleViolation("a blacklisting is always published", code="blacklisting-public")
        if not self.misconduct:
            raise RuleViolation(f"{self.name} has no recorded misconduct", code="no-misconduct-recorded")
        known = {item["no"] for item in self.misconduct}
        cited = misconduct_nos or sorted(known)
        if not set(cited) <= known:
            raise InvalidInput(f"unknown misconduct records: {sorted(set(cited) - known)}", field="misconduct")
        for item in self.misconduct:
            if item["no"] in cited:
                require_not_before(by.effective_on, item.get("recorded_on"), f"misconduct {item['no']} was recorded")
        if self.is_blacklisted(by.effective_on):
            raise RuleViolation(f"{self.name} is already blacklisted", code="agency-blacklisted")
        if until <= by.effective_on:
            raise InvalidInput("the blacklisting must end after it starts", code="invalid-date", field="until")
        number = len(self.blacklistings) + 1
        self.record(
            self.Blacklisted,
            by,
            blacklisting_no=number,
            misconduct_nos=sorted(cited),
            start=by.effective_on,
            until=until,
            public=public,
        )
        return number

    def lift_blacklisting(self, by: Attribution) -> None:
        entry = self.blacklisting_on(by.effective_on)
        if entry is None or entry["ended"] is not None:
            raise RuleViolation(f"{self.name} is not blacklisted", code="not-blacklisted")
        if not by.reason.strip():
            raise InvalidInput("lifting a blacklisting must give the reason", code="reason-required", field="reason")
        self.record(self.BlacklistLifted, by, blacklisting_no=entry["no"])

    def expire_blacklistings(self, today: date, principal: Principal) -> list[int]:
        expired = []
        for entry in self.blacklistings:
            if entry["ended"] is None and today >= entry["until"]:
                self.record(
                    self.BlacklistExpired,
                    Attribution(principal, entry["until"], f"blacklisting period ended on {entry['until']}"),
                    blacklisting_no=entry["no"],
                )
                expired.append(entry["no"])
        return expired

    def next_expiry_check(self) -> date | None:
        """The first day a blacklisting could expire, unless something is recorded before."""
        return min((entry["until"] for entry in self.blacklistings if entry["ended"] is None), default=None)
