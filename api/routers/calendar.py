"""The working-day calendar (工作日历): each year's public holidays and 调休 working weekends as the log records them.

Public: the State Council's arrangements are public information, and anyone checking a deadline needs the calendar
it was counted on. The calendar is one small aggregate, so reading it is the read model (cached, its version as
ETag). Finance amends a year by a command with a reason; nothing else changes a recorded year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from api.auth import PrincipalDep
from api.body import LedgerRoute
from api.commands import CommandDep, command, run
from api.deps import LedgerDep
from api.problems import documented
from api.schemas.calendar import (
    CalendarAmendment,
    CalendarChange,
    CalendarDay,
    CalendarDifferences,
    CalendarOverview,
    CalendarYearOut,
    CalendarYearSummary,
)
from api.schemas.common import CommandResult, PrincipalOut
from ledger.domain.calendar import FIRST_CALENDAR_YEAR, LAST_CALENDAR_YEAR, WORKING_CALENDAR_ID, CalendarYear
from ledger.domain.errors import InvalidInput, NotFound

router = APIRouter(prefix="/calendar", tags=["calendar"], route_class=LedgerRoute)

YearPath = Annotated[int, Path(ge=FIRST_CALENDAR_YEAR, le=LAST_CALENDAR_YEAR, examples=[2025])]


@router.get("", responses=documented(401))
def calendar_overview(ledger: LedgerDep, principal: PrincipalDep, response: Response) -> CalendarOverview:
    """工作日历: every recorded year with its source, and the years this service's package or settings count
    otherwise (``differs_from_source``: the log governs until finance amends the year). Public."""
    calendar = ledger.working_calendar()
    check = ledger.calendar_check()
    response.headers["ETag"] = f'"{calendar.version}"'
    return CalendarOverview(
        id=str(WORKING_CALENDAR_ID),
        version=calendar.version,
        source=check.source,
        source_years=list(check.source_years),
        differs_from_source=sorted(check.differs),
        settings_not_recorded=list(check.settings_not_recorded),
        missing_years=list(check.missing),
        years=[
            CalendarYearSummary(
                year=year.year,
                source=year.source,
                holidays=len(year.holidays),
                working_weekends=len(year.working_weekends),
                differs_from_source=year.year in check.differs,
            )
            for _, year in sorted(calendar.years.items())
        ],
    )


@router.get("/{year}", responses=documented(401, 404, 422))
def calendar_year(year: YearPath, ledger: LedgerDep, principal: PrincipalDep, response: Response) -> CalendarYearOut:
    """One year's days off and weekend days worked as the log records them, where they came from, and every event
    that recorded the year (leaf index and hash, for an inclusion proof). Public."""
    calendar = ledger.working_calendar()
    if str(year) not in calendar.years:
        raise NotFound(f"未记录{year}年工作日历 no calendar recorded for {year}", code="calendar-year-not-found")
    recorded = calendar.year(year)
    differences = ledger.calendar_check().differs.get(year, {})
    history = []
    for entry in ledger.history(WORKING_CALENDAR_ID):
        for given in _years_of(entry.payload):
            if given.year == year:
                history.append(
                    CalendarChange(
                        leaf_index=entry.leaf_index,
                        leaf_hash=entry.leaf_hash,
                        version=entry.version,
                        event_type=entry.event_type,
                        recorded_at=entry.recorded_at,
                        effective_on=entry.effective_on,
                        principal=PrincipalOut.model_validate(entry.principal),
                        reason=entry.reason,
                        source=given.source,
                        holidays=_days_out(given.holidays),
                        working_weekends=_days_out(given.working_weekends),
                    )
                )
    response.headers["ETag"] = f'"{calendar.version}"'
    return CalendarYearOut(
        year=year,
        version=calendar.version,
        source=recorded.source,
        holidays=_days_out(recorded.holidays),
        working_weekends=_days_out(recorded.working_weekends),
        differs_from_source=bool(differences),
        differences=CalendarDifferences(**differences),
        history=history,
    )


@command(router, "/{year}/amendments", created=True)
async def amend_calendar_year(year: YearPath, body: CalendarAmendment, ctx: CommandDep) -> CommandResult:
    """修订工作日历 by finance, with a reason: the year's days as given replace the recorded ones (or record a year no
    package knows yet). Deadlines already recorded keep the calendar they were counted on."""
    holidays = _days_in(body.holidays, "holidays")
    working_weekends = _days_in(body.working_weekends, "working_weekends")
    return await run(
        ctx,
        body,
        lambda act: ctx.ledger.amend_calendar_year(act, year, holidays, working_weekends),
        location=lambda w: f"/calendar/{year}",
    )


def _years_of(payload: Mapping[str, Any]) -> list[CalendarYear]:
    """The years an event of the calendar recorded (every event records whole years)."""
    if "amended" in payload:
        return [payload["amended"]]
    return list(payload.get("years", []))


def _days_out(days: Mapping[str, str]) -> list[CalendarDay]:
    return [CalendarDay(date=date.fromisoformat(day), name=name) for day, name in days.items()]


def _days_in(days: Iterable[CalendarDay], field: str) -> dict[date, str]:
    given: dict[date, str] = {}
    for day in days:
        if day.date in given:
            raise InvalidInput(f"{field}: {day.date} is given twice (日期重复)", field=field)
        given[day.date] = day.name
    return given
