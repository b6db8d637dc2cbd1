"""The working-day calendar (工作日历): each year's public holidays (法定节假日) and the weekend days worked in their
place (调休上班日), as the log records them.

A deadline in working days (a deviation's answer: ``deviation_response_working_days``) is counted on this calendar,
so it is part of what a decision rests on and lives in the log like the ruleset: one object, recorded by the system
when the ledger first starts from the State Council's yearly notice (国务院办公厅关于部分节假日安排的通知, as a
maintained package carries it), a year the log lacks added by the system when a newer package knows it, and a year
already recorded changed only by finance, with a reason (:meth:`WorkingCalendar.amend_year`). A decision records the
calendar's version it counted with, so an auditor recounts its deadline on exactly that calendar.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from ledger.domain.base import EARLIEST_EFFECTIVE_ON, LedgerAggregate, ledger_id
from ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from ledger.domain.values import LAST_FISCAL_YEAR, Attribution, Principal, text

WORKING_CALENDAR_ID = ledger_id("working-calendar")

FIRST_CALENDAR_YEAR = EARLIEST_EFFECTIVE_ON.year
LAST_CALENDAR_YEAR = LAST_FISCAL_YEAR + 2  # a deadline set late in the last fiscal year's self-evaluation may run on
NAME_LENGTH = 64

# What a day added by the deployment's settings is called in the year it changed (the settings carry no names).
SETTINGS_HOLIDAY = "地方假日（JIXIAO_HOLIDAYS）"
SETTINGS_WORKING_WEEKEND = "调休上班（JIXIAO_WORKING_WEEKENDS）"
SETTINGS_SOURCE = "本地设置（JIXIAO_HOLIDAYS / JIXIAO_WORKING_WEEKENDS）"
FINANCE_SOURCE = "财政局修订（finance amendment）"


@dataclass(frozen=True)
class CalendarYear:
    """One year of the calendar: its days off and its weekend days worked, each by ISO date with its name (春节,
    国庆节; a worked weekend day is named for the holiday it makes up for), and where they came from."""

    year: int
    holidays: dict[str, str]
    working_weekends: dict[str, str]
    source: str

    def days_off(self) -> dict[date, str]:
        return dict(_days(self.holidays))

    def days_worked(self) -> dict[date, str]:
        return dict(_days(self.working_weekends))

    @property
    def holiday_dates(self) -> frozenset[date]:
        return frozenset(date.fromisoformat(day) for day in self.holidays)

    @property
    def working_weekend_dates(self) -> frozenset[date]:
        return frozenset(date.fromisoformat(day) for day in self.working_weekends)

    def differences(self, source: CalendarYear) -> dict[str, list[str]]:
        """The days on which ``source`` (what a package and settings say of the year) counts otherwise than this year
        as recorded, by kind (ISO dates; kinds without any left out)."""
        found = {
            "holidays_only_in_log": sorted(set(self.holidays) - set(source.holidays)),
            "holidays_only_in_source": sorted(set(source.holidays) - set(self.holidays)),
            "working_weekends_only_in_log": sorted(set(self.working_weekends) - set(source.working_weekends)),
            "working_weekends_only_in_source": sorted(set(source.working_weekends) - set(self.working_weekends)),
        }
        return {kind: days for kind, days in found.items() if days}


def calendar_year(
    year: object, holidays: Mapping[date, str], working_weekends: Mapping[date, str], source: str
) -> CalendarYear:
    """A year of the calendar, checked: every day in the year, every worked day a Saturday or Sunday, no day both off
    and worked, names short text."""
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_CALENDAR_YEAR <= year <= LAST_CALENDAR_YEAR:
        raise InvalidInput(
            f"a calendar year is between {FIRST_CALENDAR_YEAR} and {LAST_CALENDAR_YEAR}: {year!r}",
            code="invalid-date",
            field="year",
        )
    for field, days in (("holidays", holidays), ("working_weekends", working_weekends)):
        for day in days:
            if not isinstance(day, date) or day.year != year:
                raise InvalidInput(
                    f"{field}: {day} is not a day of {year} (每个日期须在{year}年内)",
                    code="calendar-date-outside-year",
                    field=field,
                )
    weekdays = sorted(day.isoformat() for day in working_weekends if day.weekday() < 5)
    if weekdays:
        raise InvalidInput(
            f"working weekend days must be Saturdays or Sundays (调休上班日须为周六或周日): {', '.join(weekdays)}",
            code="working-weekend-not-weekend",
            field="working_weekends",
        )
    both = sorted(day.isoformat() for day in set(holidays) & set(working_weekends))
    if both:
        raise InvalidInput(
            f"a day cannot be both a holiday and a worked weekend day (同一天不能既放假又调休上班): {', '.join(both)}",
            code="calendar-day-conflict",
            field="working_weekends",
        )
    return CalendarYear(
        year,
        {
            day.isoformat(): text(name, f"holidays.{day}", max_length=NAME_LENGTH, required=False)
            for day, name in sorted(holidays.items())
        },
        {
            day.isoformat(): text(name, f"working_weekends.{day}", max_length=NAME_LENGTH, required=False)
            for day, name in sorted(working_weekends.items())
        },
        text(source, "source", max_length=200),
    )


def with_settings(
    year: CalendarYear, holidays: Collection[date], working_weekends: Collection[date], settings_source: str
) -> CalendarYear:
    """``year`` with the deployment's settings applied to it: a day in ``holidays`` is off (no longer worked, if the
    notice had it worked); a day in ``working_weekends`` is worked (no longer off, if the notice had it off). Days of
    other years are left to those years; a setting that changes nothing leaves the year (and its source) as it was.
    """
    off = year.days_off()
    worked = year.days_worked()
    for day in holidays:
        if day.year == year.year and day not in off:
            off[day] = SETTINGS_HOLIDAY
            worked.pop(day, None)
    for day in working_weekends:
        if day.year == year.year and day not in worked:
            worked[day] = SETTINGS_WORKING_WEEKEND
            off.pop(day, None)
    if off.keys() == year.holiday_dates and worked.keys() == year.working_weekend_dates:
        return year
    return calendar_year(year.year, off, worked, f"{year.source}；{settings_source}")


def _days(days: Mapping[str, str]) -> Iterable[tuple[date, str]]:
    return ((date.fromisoformat(day), name) for day, name in days.items())


@dataclass(frozen=True)
class CalendarSource:
    """Where the calendar's years come from when the log lacks them: the State Council's notices as a package
    carries them (``name``: the package and its version), each year as that package has it."""

    name: str
    years: Mapping[int, CalendarYear]


@dataclass(frozen=True)
class CalendarSettings:
    """The deployment's additions (``JIXIAO_HOLIDAYS``, ``JIXIAO_WORKING_WEEKENDS``): applied to a year when the log
    first records it from the source (:func:`with_settings`), never read by a decision."""

    holidays: frozenset[date] = frozenset()
    working_weekends: frozenset[date] = frozenset()

    def apply(self, year: CalendarYear) -> CalendarYear:
        return with_settings(year, self.holidays, self.working_weekends, SETTINGS_SOURCE)

    def years(self) -> set[int]:
        return {day.year for day in self.holidays | self.working_weekends}


@dataclass(frozen=True)
class WorkingDays:
    """What a decision counts working days with: the calendar's version in the log, its days off and its weekend days
    worked (every recorded year's)."""

    version: int
    holidays: frozenset[date]
    working_weekends: frozenset[date]
    years: tuple[int, ...] = ()

    def covers(self, day: date) -> bool:
        """Whether the calendar holds the year of ``day`` (a year it lacks counts weekends only)."""
        return day.year in self.years


class WorkingCalendar(LedgerAggregate):
    """工作日历: the public holidays and 调休 working weekends of each recorded year; one object per ledger."""

    TOPIC_MODULE = "ledger.calendar"  # stored topics keep the module they were first recorded under

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        years: dict[str, CalendarYear]  # year (as text: snapshots store JSON) -> the year as recorded

    class Established(LedgerAggregate.Created):
        """The calendar first recorded, by the system: every year its source knew."""

        years: list[CalendarYear]

        def apply(self, calendar: WorkingCalendar) -> None:
            calendar.years = {str(year.year): year for year in self.years}

    class YearsAdded(LedgerAggregate.Event):
        """Years the log lacked, recorded by the system from a newer source (a package that knows them)."""

        years: list[CalendarYear]

        def apply(self, calendar: WorkingCalendar) -> None:
            calendar.years.update({str(year.year): year for year in self.years})

    class YearAmended(LedgerAggregate.Event):
        """A year recorded anew by finance, with a reason (a correction, a local holiday, a year no source knew)."""

        amended: CalendarYear

        def apply(self, calendar: WorkingCalendar) -> None:
            calendar.years[str(self.amended.year)] = self.amended

    @classmethod
    def establish(
        cls, years: Iterable[CalendarYear], principal: Principal, effective_on: date, reason: str
    ) -> WorkingCalendar:
        return cls._create(
            cls.Established,
            id=WORKING_CALENDAR_ID,
            principal=principal,
            effective_on=effective_on,
            reason=reason,
            evidence=[],
            years=sorted(years, key=lambda year: year.year),
        )

    def add_years(self, years: Iterable[CalendarYear], by: Attribution) -> None:
        """Record years the log lacks; a year it holds is never changed this way (finance amends it)."""
        added = sorted(years, key=lambda year: year.year)
        if not added:
            raise InvalidInput("no year to add", field="years")
        recorded = [str(year.year) for year in added if str(year.year) in self.years]
        if recorded or len({year.year for year in added}) != len(added):
            raise RuleViolation(
                f"already recorded (已记录，须由财政局修订): {', '.join(recorded) or 'a year given twice'}",
                code="calendar-year-recorded",
                field="years",
            )
        self.record(self.YearsAdded, by, years=added)

    def amend_year(
        self, year: int, holidays: Mapping[date, str], working_weekends: Mapping[date, str], by: Attribution
    ) -> None:
        """财政局修订: the year as given replaces the year as recorded (or records a year no source knew)."""
        if not by.reason.strip():
            raise InvalidInput("amending the calendar must give the reason", code="reason-required", field="reason")
        amended = calendar_year(year, holidays, working_weekends, FINANCE_SOURCE)
        current = self.years.get(str(year))
        if (
            current is not None
            and current.holidays == amended.holidays
            and (current.working_weekends == amended.working_weekends)
        ):
            raise RuleViolation(f"the calendar of {year} is already so (无变化)", code="calendar-unchanged")
        self.record(self.YearAmended, by, amended=amended)

    def year(self, year: int) -> CalendarYear:
        try:
            return self.years[str(year)]
        except KeyError:
            raise NotFound(
                f"no calendar recorded for {year} (未记录{year}年工作日历)", code="calendar-year-not-found"
            ) from None

    def working_days(self) -> WorkingDays:
        recorded = [self.years[year] for year in sorted(self.years)]
        return WorkingDays(
            self.version,
            frozenset().union(*(year.holiday_dates for year in recorded)),
            frozenset().union(*(year.working_weekend_dates for year in recorded)),
            tuple(year.year for year in recorded),
        )
