"""The working-day calendar (工作日历): what the log records of each year, and finance's amendment of a year."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from api.labels import Coded, Labelled
from api.schemas.common import CommandBody, PrincipalOut, Strict, with_examples

DayName = Annotated[str, StringConstraints(max_length=64)]


class CalendarDay(Strict):
    """A day off (放假) or a weekend day worked (调休上班), with its name."""

    date: date
    name: DayName = Field(default="", description="The holiday it belongs to (春节, 国庆节) or makes up for")


class CalendarAmendment(CommandBody):
    """The year's days as they should be, all of them: they replace what the log records of the year."""

    model_config = with_examples(
        {
            "holidays": [
                {"date": "2025-10-01", "name": "国庆节"},
                {"date": "2025-10-02", "name": "国庆节"},
                {"date": "2025-03-03", "name": "藏历新年"},
            ],
            "working_weekends": [{"date": "2025-09-28", "name": "国庆节"}, {"date": "2025-10-11", "name": "国庆节"}],
            "reason": "州人民政府通知：藏历新年放假一天",
            "effective_on": "2025-02-20",
        }
    )

    holidays: list[CalendarDay] = Field(max_length=366, description="Every day off of the year (放假日)")
    working_weekends: list[CalendarDay] = Field(
        max_length=120, description="Every Saturday or Sunday worked (调休上班日)"
    )


class CalendarDifferences(BaseModel):
    """Days that this service's package and settings count otherwise than the log (ISO dates)."""

    holidays_only_in_log: list[str] = []
    holidays_only_in_source: list[str] = []
    working_weekends_only_in_log: list[str] = []
    working_weekends_only_in_source: list[str] = []


class CalendarYearSummary(BaseModel):
    year: int
    source: str = Field(description="Where the year's days came from (the notice and package, settings, finance)")
    holidays: int = Field(description="Days off (weekend days inside a holiday included)")
    working_weekends: int
    differs_from_source: bool


class CalendarOverview(BaseModel):
    """The calendar the ledger counts working days on, as the log records it, and what this service's package and
    settings say of it."""

    id: str = Field(description="The calendar's object id in the log (its full history: /objects/{id}/history)")
    version: int = Field(description="Recorded with each deadline counted on it (DeviationDetected.calendar_version)")
    source: str = Field(
        description="The package this service would record a new year from, e.g. chinesecalendar 1.11.0"
    )
    source_years: list[int]
    differs_from_source: list[int] = Field(
        description="Recorded years the package and settings count otherwise: the log governs until finance amends"
    )
    settings_not_recorded: list[int] = Field(
        description="Years JIXIAO_HOLIDAYS / JIXIAO_WORKING_WEEKENDS name that neither the log nor the package holds"
    )
    missing_years: list[int] = Field(
        description="This year or the next, within a deadline's reach of today, not recorded: deadlines counted now "
        "count weekends only there (install a newer package, or finance records the year)"
    )
    years: list[CalendarYearSummary]


class CalendarChange(Labelled):
    """One event that recorded the year: where it sits in the log, who recorded it, why, and the year it set."""

    leaf_index: int
    leaf_hash: str
    version: int
    event_type: Annotated[str, Coded("event_type")]
    recorded_at: datetime
    effective_on: date | None
    principal: PrincipalOut
    reason: str
    source: str
    holidays: list[CalendarDay]
    working_weekends: list[CalendarDay]


class CalendarYearOut(BaseModel):
    year: int
    version: int = Field(description="The calendar's version in the log")
    source: str
    holidays: list[CalendarDay]
    working_weekends: list[CalendarDay]
    differs_from_source: bool
    differences: CalendarDifferences
    history: list[CalendarChange] = Field(description="Every event that recorded this year, oldest first")
