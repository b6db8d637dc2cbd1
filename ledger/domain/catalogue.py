"""The indicator library (指标库) and the rulesets (规则集). (The re-evaluation samples, first recorded under this
module's topics, are :mod:`ledger.domain.draw`'s.)"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.domain import rules
from ledger.domain.base import LedgerAggregate, ledger_id
from ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from ledger.domain.values import FIRST_FISCAL_YEAR, LEVEL2, Attribution, Level1, Operator, Principal, enum_value

INDICATOR_LIBRARY_ID = ledger_id("indicator-library")
RULESET_ID = ledger_id("ruleset")


class IndicatorLibrary(LedgerAggregate):
    """Common and industry core indicators with their standards, versioned per indicator."""

    TOPIC_MODULE = "ledger.catalogue"  # stored topics keep the module they were first recorded under

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        indicators: dict[str, dict[str, Any]]  # code -> current definition

    class Opened(LedgerAggregate.Created):
        def apply(self, library: IndicatorLibrary) -> None:
            library.indicators = {}

    class IndicatorDefined(LedgerAggregate.Event):
        code: str
        definition: dict[str, str]

        def apply(self, library: IndicatorLibrary) -> None:
            library.indicators[self.code] = {**self.definition, "version": 1, "retired": False}

    class IndicatorRevised(LedgerAggregate.Event):
        code: str
        definition: dict[str, str]

        def apply(self, library: IndicatorLibrary) -> None:
            current = library.indicators[self.code]
            library.indicators[self.code] = {**self.definition, "version": current["version"] + 1, "retired": False}

    class IndicatorRetired(LedgerAggregate.Event):
        code: str

        def apply(self, library: IndicatorLibrary) -> None:
            library.indicators[self.code]["retired"] = True

    @classmethod
    def open(cls, principal: Principal, effective_on: date) -> IndicatorLibrary:
        return cls._create(
            cls.Opened, id=INDICATOR_LIBRARY_ID, principal=principal, effective_on=effective_on, reason="", evidence=[]
        )

    @staticmethod
    def _definition(definition: dict[str, str]) -> dict[str, str]:
        expected = {"name", "level1", "level2", "operator", "standard", "unit", "industry"}
        if set(definition) != expected:
            raise InvalidInput(
                f"an indicator definition has exactly: {', '.join(sorted(expected))}",
                code="invalid-indicator",
                field="definition",
            )
        level1 = enum_value(Level1, definition["level1"], "level1")
        if definition["level2"] not in LEVEL2[level1]:
            raise InvalidInput(
                f"level2 {definition['level2']!r} is not under {level1.value}", code="invalid-indicator", field="level2"
            )
        enum_value(Operator, definition["operator"], "operator")
        return dict(definition)

    def define(self, code: str, definition: dict[str, str], by: Attribution) -> None:
        if code in self.indicators:
            raise RuleViolation(f"indicator {code} already exists", code="already-exists")
        self.record(self.IndicatorDefined, by, code=code, definition=self._definition(definition))

    def revise(self, code: str, definition: dict[str, str], by: Attribution) -> None:
        if self.require(code)["retired"]:
            raise RuleViolation(f"indicator {code} is retired; define a new one", code="indicator-retired")
        self.record(self.IndicatorRevised, by, code=code, definition=self._definition(definition))

    def retire(self, code: str, by: Attribution) -> None:
        if self.require(code)["retired"]:
            raise RuleViolation(f"indicator {code} is already retired", code="already-decided")
        self.record(self.IndicatorRetired, by, code=code)

    def require(self, code: str) -> dict[str, Any]:
        try:
            return self.indicators[code]
        except KeyError:
            raise NotFound(f"indicator {code} not found", code="indicator-not-found") from None


class Ruleset(LedgerAggregate):
    """The parameters in force. Version 1 holds the defaults; each adoption is an event."""

    TOPIC_MODULE = "ledger.catalogue"  # stored topics keep the module they were first recorded under

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        versions: dict[str, dict[str, Any]]  # version (as text) -> parameters (as stored)
        current_version: int

    class Established(LedgerAggregate.Created):
        parameters: dict[str, Any]

        def apply(self, ruleset: Ruleset) -> None:
            ruleset.versions = {"1": dict(self.parameters)}
            ruleset.current_version = 1

    class Adopted(LedgerAggregate.Event):
        ruleset_version: int
        parameters: dict[str, Any]

        def apply(self, ruleset: Ruleset) -> None:
            ruleset.versions[str(self.ruleset_version)] = dict(self.parameters)
            ruleset.current_version = self.ruleset_version

    @classmethod
    def establish(cls, principal: Principal, effective_on: date) -> Ruleset:
        return cls._create(
            cls.Established,
            id=RULESET_ID,
            principal=principal,
            effective_on=effective_on,
            reason="ruleset version 1: the defaults of DOMAIN.md",
            evidence=[],
            parameters=rules.DEFAULT_PARAMETERS.to_dict(),
        )

    def adopt(self, version: int, parameters: dict[str, Any], by: Attribution) -> None:
        if version != self.current_version + 1:
            raise RuleViolation(f"the next ruleset version is {self.current_version + 1}", code="ruleset-version")
        if not by.reason.strip():
            raise InvalidInput("adopting a ruleset must give the reason", code="reason-required", field="reason")
        checked = rules.RuleParameters.from_dict(parameters)
        self._keep_past_targets(checked, by.effective_on)
        self.record(self.Adopted, by, ruleset_version=version, parameters=checked.to_dict())

    def _keep_past_targets(self, adopted: rules.RuleParameters, effective_on: date) -> None:
        """A year already over keeps the coverage target it was measured against: a new ruleset sets the targets of
        the year it takes effect in and of the years after (the coverage read model shows each year's target from
        the ruleset in force, which so never rewrites a finished year)."""
        current = self.parameters()
        for year in reversed(range(FIRST_FISCAL_YEAR, effective_on.year)):  # the latest year it would change
            before, after = rules.overall_goals_target(year, current), rules.overall_goals_target(year, adopted)
            if before != after:
                raise InvalidInput(
                    f"整体绩效目标覆盖面（overall_goals_coverage）不得改变已结束年度 {year} 的目标"
                    f"（{before}% → {after}%）; "
                    f"a ruleset taking effect on {effective_on} may not change the coverage target of {year}, "
                    f"a year already over ({before}% → {after}%)",
                    code="invalid-rule-parameter",
                    field="overall_goals_coverage",
                )

    def parameters(self, version: int | None = None) -> rules.RuleParameters:
        """The parameters of ``version`` (default: the one in force), as they were adopted."""
        chosen = self.current_version if version is None else version
        try:
            stored = self.versions[str(chosen)]
        except KeyError:
            raise NotFound(f"ruleset version {chosen} not found", code="ruleset-not-found") from None
        return rules.RuleParameters.from_stored(stored)
