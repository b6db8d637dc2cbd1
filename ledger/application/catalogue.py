"""The catalogue's use cases: the indicator library (指标库) and the rulesets (规则集).

Both are single objects of the ledger, opened by :meth:`CatalogueUseCases.bootstrap`; finance keeps them.
"""

from __future__ import annotations

from typing import Any

from ledger.application.acts import Act, Written
from ledger.application.calendar import CalendarUseCases
from ledger.application.core import use_case
from ledger.application.roles import require_role
from ledger.domain.catalogue import INDICATOR_LIBRARY_ID, RULESET_ID, IndicatorLibrary, Ruleset
from ledger.domain.values import SYSTEM, Role, key, text


class CatalogueUseCases(CalendarUseCases):
    """指标库, 规则集 and 工作日历: what goals are built from and what every rule is computed with."""

    def bootstrap(self) -> None:
        """Record ruleset version 1 and open the indicator library, once per ledger; record the working-day calendar
        the first time, and at every start the years its source knows and the log lacks (:meth:`record_calendar`)."""
        today = self.today()
        if not self.exists(RULESET_ID):
            self._commit_new(Ruleset.establish(SYSTEM, today), ignore_existing=True)
        if not self.exists(INDICATOR_LIBRARY_ID):
            self._commit_new(IndicatorLibrary.open(SYSTEM, today), ignore_existing=True)
        self.record_calendar()

    def indicator_library(self) -> IndicatorLibrary:
        return self._read(IndicatorLibrary, INDICATOR_LIBRARY_ID, "indicator-not-found")

    @use_case
    def define_indicator(self, act: Act, code: str, definition: dict[str, str]) -> Written:
        require_role(act, Role.FINANCE)
        with self._changing(IndicatorLibrary, INDICATOR_LIBRARY_ID, "indicator-not-found", act) as library:
            library.define(_library_code(library, text(code, "code", max_length=64)), _definition(definition), act.by)
            return self.commit(library, act=act)

    @use_case
    def revise_indicator(self, act: Act, code: str, definition: dict[str, str]) -> Written:
        require_role(act, Role.FINANCE)
        with self._changing(IndicatorLibrary, INDICATOR_LIBRARY_ID, "indicator-not-found", act) as library:
            library.revise(_library_code(library, code), _definition(definition), act.by)
            return self.commit(library, act=act)

    @use_case
    def retire_indicator(self, act: Act, code: str) -> Written:
        require_role(act, Role.FINANCE)
        with self._changing(IndicatorLibrary, INDICATOR_LIBRARY_ID, "indicator-not-found", act) as library:
            library.retire(_library_code(library, code), act.by)
            return self.commit(library, act=act)

    @use_case
    def adopt_ruleset(self, act: Act, version: int, parameters: dict[str, Any]) -> Written:
        """Finance adopts a new ruleset; what was decided under the old one stays as it was."""
        require_role(act, Role.FINANCE)
        with self._changing(Ruleset, RULESET_ID, "ruleset-not-found", act) as ruleset:
            ruleset.adopt(version, parameters, act.by)
            return self.commit(ruleset, act=act)


def _library_code(library: IndicatorLibrary, code: str) -> str:
    """The code as the indicator library recorded it, for any spelling of it (as given if it has none)."""
    wanted = key(code)
    return next((known for known in library.indicators if key(known) == wanted), code)


def _definition(definition: dict[str, str]) -> dict[str, str]:
    return {
        key: text(value, f"definition.{key}", max_length=400, required=key in {"name", "level1", "level2", "operator"})
        for key, value in definition.items()
    }
