"""The working-day calendar's use cases (工作日历): recorded by the system from the State Council's notices, amended by
finance, checked at every start against what this process's package and settings say.

- **First start**: every year the ``chinesecalendar`` package knows (the State Council's 部分节假日安排 notices), with
  the deployment's ``JIXIAO_HOLIDAYS`` / ``JIXIAO_WORKING_WEEKENDS`` applied to each
  (:meth:`~ledger.domain.calendar.CalendarSettings.apply`), is recorded as one event by the system.
- **Later starts**: a year the package knows and the log lacks (a newer package) is recorded by the system, the
  package and its version named in the event; a year the log holds is never changed by a start. Where the package or
  the settings now say otherwise for a recorded year, the start logs a warning and :meth:`calendar_check` reports it
  (``GET /calendar``: ``differs_from_source``): the log governs until finance amends the year.
- **Finance** amends a year (or records one no package knows) by a command with a reason
  (:meth:`CalendarUseCases.amend_calendar_year`).

Decisions read the calendar as recorded (:meth:`~ledger.application.core.LedgerCore.working_days`), never the
settings or the package.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

from ledger.application.acts import Act, Written
from ledger.application.core import LedgerCore, use_case
from ledger.application.roles import require_role
from ledger.domain.calendar import (
    FIRST_CALENDAR_YEAR,
    LAST_CALENDAR_YEAR,
    WORKING_CALENDAR_ID,
    CalendarSource,
    CalendarYear,
    WorkingCalendar,
    calendar_year,
)
from ledger.domain.errors import VersionConflict
from ledger.domain.values import SYSTEM, Role

logger = logging.getLogger(__name__)

PACKAGE = "chinesecalendar"
RECORD_ATTEMPTS = 3  # starts racing to add the same years: the loser re-reads what the winner recorded
REACH = timedelta(days=31)  # how far past today a deadline in working days counted today may fall (10 days: ~3 weeks)


@functools.cache
def state_council_calendar() -> CalendarSource:
    """The State Council's holiday arrangements (国务院办公厅关于部分节假日安排的通知) as the installed
    ``chinesecalendar`` carries them: each year's days off (weekend days inside a holiday included) and weekend days
    worked, named in Chinese for their holiday."""
    version = str(chinese_calendar.__version__)
    days_off: dict[int, dict[date, str]] = {}
    days_worked: dict[int, dict[date, str]] = {}
    for found, into in ((chinese_calendar.holidays, days_off), (chinese_calendar.workdays, days_worked)):
        for day, holiday in found.items():
            if FIRST_CALENDAR_YEAR <= day.year <= LAST_CALENDAR_YEAR:
                into.setdefault(day.year, {})[day] = str(chinese_calendar.Holiday(holiday).chinese)
    years = {
        year: calendar_year(
            year,
            days_off.get(year, {}),
            days_worked.get(year, {}),
            f"国务院办公厅{year}年部分节假日安排（{PACKAGE} {version}）",
        )
        for year in sorted(days_off.keys() | days_worked.keys())
    }
    return CalendarSource(f"{PACKAGE} {version}", years)


@dataclass(frozen=True)
class CalendarCheck:
    """The calendar as the log records it beside what this process's package and settings make of it."""

    version: int
    source: str
    source_years: tuple[int, ...]
    differs: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    """Recorded years the package and settings count otherwise, with the days that differ."""
    settings_not_recorded: tuple[int, ...] = ()
    """Years the settings name that neither the log nor the package holds: finance records them, if they are meant."""
    missing: tuple[int, ...] = ()
    """This year or the next, within reach of a deadline counted today (:data:`REACH`), when the log lacks it: such a
    deadline counts weekends only there."""


class CalendarUseCases(LedgerCore):
    """工作日历: what working days are counted on, in the log."""

    def working_calendar(self) -> WorkingCalendar:
        return self._read(WorkingCalendar, WORKING_CALENDAR_ID, "calendar-not-found")

    def calendar_source_of_process(self) -> CalendarSource:
        """What this process would record a year from: its package (or the source it was given)."""
        return self.calendar_source or state_council_calendar()

    def source_years(self) -> dict[int, CalendarYear]:
        """Each year of this process's source with its settings applied: what a first recording of it holds."""
        source = self.calendar_source_of_process()
        return {year: self.calendar_settings.apply(recorded) for year, recorded in source.years.items()}

    def record_calendar(self) -> list[int]:
        """At start-up (``bootstrap``): record the calendar the first time, then any year the source knows and the
        log lacks; warn of every recorded year the source and settings now count otherwise. The years recorded."""
        source = self.calendar_source_of_process()
        years = self.source_years()
        added: list[int] = []
        if not self.exists(WORKING_CALENDAR_ID):
            settings = self.calendar_settings
            reason = f"工作日历：国务院办公厅节假日安排（{source.name}）" + (
                "，并依本地设置调整 (JIXIAO_HOLIDAYS / JIXIAO_WORKING_WEEKENDS applied)"
                if settings.holidays or settings.working_weekends
                else ""
            )
            calendar = WorkingCalendar.establish(years.values(), SYSTEM, self.today(), reason)
            if self._commit_new(calendar, ignore_existing=True).positions:
                added = sorted(years)
        added += self._add_missing_years(source, years)
        check = self.calendar_check()
        for year, days in check.differs.items():
            logger.warning(
                "working calendar: %s as the log records it differs from %s with this deployment's settings (%s); "
                "the log governs deadlines until finance amends the year (POST /calendar/%s/amendments)",
                year,
                source.name,
                "; ".join(f"{kind}: {', '.join(found)}" for kind, found in days.items()),
                year,
            )
        if check.missing:
            logger.warning(
                "working calendar: the log holds no calendar for %s, which deadlines counted now may reach (weekends "
                "only are counted there): install a newer %s, or finance records the year "
                "(POST /calendar/{year}/amendments)",
                ", ".join(map(str, check.missing)),
                PACKAGE,
            )
        if check.settings_not_recorded:
            logger.warning(
                "working calendar: JIXIAO_HOLIDAYS / JIXIAO_WORKING_WEEKENDS name days of %s, which neither the log "
                "nor %s holds: not recorded (finance records a year by POST /calendar/{year}/amendments)",
                ", ".join(map(str, check.settings_not_recorded)),
                source.name,
            )
        return added

    def _add_missing_years(self, source: CalendarSource, years: Mapping[int, CalendarYear]) -> list[int]:
        for _ in range(RECORD_ATTEMPTS):
            act = self.act(SYSTEM)
            try:
                with self._changing(WorkingCalendar, WORKING_CALENDAR_ID, "calendar-not-found", act) as calendar:
                    missing = sorted(year for year in years if str(year) not in calendar.years)
                    if not missing:
                        return []
                    reason = f"{source.name} 新增{'、'.join(map(str, missing))}年节假日安排 (years the log lacked)"
                    calendar.add_years([years[year] for year in missing], Act(SYSTEM, act.effective_on, reason).by)
                    self.commit(calendar)
                    return missing
            except VersionConflict:
                continue  # another process recorded first: what does the log lack now?
        return []

    def calendar_check(self) -> CalendarCheck:
        """Each recorded year beside this process's source and settings (``GET /calendar``)."""
        calendar = self.working_calendar()
        source = self.calendar_source_of_process()
        years = self.source_years()
        settings = self.calendar_settings
        differs: dict[int, dict[str, list[str]]] = {}
        for key, recorded in sorted(calendar.years.items()):
            expected = years.get(int(key))
            if expected is not None:
                days = recorded.differences(expected)
            else:  # a year no package knows (finance recorded it): the settings' days, at least, must agree
                days = {
                    kind: found
                    for kind, found in (
                        ("holidays_only_in_source", _missing(settings.holidays, recorded.holiday_dates, int(key))),
                        (
                            "working_weekends_only_in_source",
                            _missing(settings.working_weekends, recorded.working_weekend_dates, int(key)),
                        ),
                    )
                    if found
                }
            if days:
                differs[int(key)] = days
        recorded_years = {int(key) for key in calendar.years}
        today = self.today()
        return CalendarCheck(
            calendar.version,
            source.name,
            tuple(sorted(source.years)),
            differs,
            tuple(sorted(settings.years() - recorded_years - set(source.years))),
            tuple(sorted({today.year, (today + REACH).year} - recorded_years)),
        )

    @use_case
    def amend_calendar_year(
        self, act: Act, year: int, holidays: Mapping[date, str], working_weekends: Mapping[date, str]
    ) -> Written:
        """财政局修订工作日历: the year's days off and weekend days worked, as given, replace the recorded ones (a
        year no package knows is recorded so); with a reason. Deadlines already recorded stay as they were."""
        require_role(act, Role.FINANCE)
        with self._changing(WorkingCalendar, WORKING_CALENDAR_ID, "calendar-not-found", act) as calendar:
            calendar.amend_year(year, holidays, working_weekends, act.by)
            return self.commit(calendar, act=act)


def _missing(wanted: frozenset[date], recorded: frozenset[date], year: int) -> list[str]:
    return sorted(day.isoformat() for day in wanted - recorded if day.year == year)
