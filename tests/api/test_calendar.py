"""The working-day calendar over HTTP: public reads of what the log records (source and history included), finance's
amendment with a reason, and a start whose settings disagree with the log reporting it instead of changing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.domain.calendar import WORKING_CALENDAR_ID
from tests.api.conftest import Service, running_service
from tests.api.world import expect

pytestmark = pytest.mark.db

NATIONAL_DAY_2025 = [f"2025-10-0{day}" for day in range(1, 9)]


def test_the_calendar_is_public_and_shows_each_years_source(service: Service) -> None:
    overview = expect(service.get(None, "/calendar"), 200)
    assert overview["id"] == str(WORKING_CALENDAR_ID)
    assert overview["version"] == 1
    assert overview["source"].startswith("chinesecalendar ")
    assert set(range(2004, 2027)) <= set(overview["source_years"])
    assert overview["differs_from_source"] == []
    (summary,) = [year for year in overview["years"] if year["year"] == 2025]
    assert summary == {
        "year": 2025,
        "source": summary["source"],
        "holidays": 28,
        "working_weekends": 5,
        "differs_from_source": False,
    }
    assert "国务院办公厅2025年部分节假日安排" in summary["source"]


def test_a_year_shows_its_days_and_the_event_that_recorded_them(service: Service) -> None:
    response = service.get(None, "/calendar/2025")
    year = expect(response, 200)
    assert response.headers["ETag"] == '"1"'
    holidays = {day["date"]: day["name"] for day in year["holidays"]}
    assert set(NATIONAL_DAY_2025) <= set(holidays)
    assert holidays["2025-10-01"] == "国庆节"
    assert year["working_weekends"] == [
        {"date": "2025-01-26", "name": "春节"},
        {"date": "2025-02-08", "name": "春节"},
        {"date": "2025-04-27", "name": "劳动节"},
        {"date": "2025-09-28", "name": "国庆节"},
        {"date": "2025-10-11", "name": "国庆节"},
    ]
    (recorded,) = year["history"]
    assert recorded["event_type"] == "WorkingCalendar.Established"
    assert recorded["principal"]["role"] == "system"
    assert recorded["holidays"] == year["holidays"]
    entry = expect(service.get("auditor", f"/objects/{WORKING_CALENDAR_ID}/history"), 200)[0]
    assert (entry["leaf_index"], entry["leaf_hash"]) == (recorded["leaf_index"], recorded["leaf_hash"])
    assert expect(service.get(None, "/calendar/2090"), 404)["code"] == "calendar-year-not-found"
    expect(service.get(None, "/calendar/1990"), 422)


def test_finance_amends_a_year_with_a_reason_and_the_history_keeps_both(service: Service) -> None:
    year = expect(service.get("finance", "/calendar/2025"), 200)
    local = [*year["holidays"], {"date": "2025-03-03", "name": "藏历新年"}]
    body = {"holidays": local, "working_weekends": year["working_weekends"], "effective_on": "2025-02-20"}
    assert expect(service.post("education", "/calendar/2025/amendments", body), 403)["code"] == "role-not-allowed"
    assert expect(service.post("finance", "/calendar/2025/amendments", body), 422)["code"] == "reason-required"
    weekday = {**body, "reason": "更正", "working_weekends": [{"date": "2025-09-29", "name": "调休"}]}
    assert expect(service.post("finance", "/calendar/2025/amendments", weekday), 422)["code"] == (
        "working-weekend-not-weekend"
    )
    twice = {**body, "reason": "更正", "holidays": [*local, {"date": "2025-03-03"}]}
    assert expect(service.post("finance", "/calendar/2025/amendments", twice), 422)["field"] == "holidays"
    body["reason"] = "州人民政府通知：藏历新年放假一天"
    response = service.post("finance", "/calendar/2025/amendments", body)
    written = expect(response, 201)
    assert response.headers["Location"] == "/calendar/2025"
    assert written["version"] == 2
    assert [event["type"] for event in written["events"]] == ["WorkingCalendar.YearAmended"]
    amended = expect(service.get(None, "/calendar/2025"), 200)
    assert {"date": "2025-03-03", "name": "藏历新年"} in amended["holidays"]
    assert amended["source"] == "财政局修订（finance amendment）"
    assert [change["event_type"] for change in amended["history"]] == [
        "WorkingCalendar.Established",
        "WorkingCalendar.YearAmended",
    ]
    assert amended["history"][1]["reason"] == body["reason"]
    assert amended["history"][1]["principal"]["role"] == "finance"
    # The package still says otherwise: reported, the log governing.
    assert amended["differs_from_source"] is True
    assert amended["differences"]["holidays_only_in_log"] == ["2025-03-03"]
    assert expect(service.get(None, "/calendar"), 200)["differs_from_source"] == [2025]
    again = expect(service.post("finance", "/calendar/2025/amendments", body), 409)
    assert again["code"] == "calendar-unchanged"


def test_a_start_whose_settings_disagree_reports_it_and_changes_nothing(database_url: str, tmp_path: Path) -> None:
    with running_service(database_url, tmp_path) as first:
        before = expect(first.get(None, "/calendar/2025"), 200)
    with running_service(database_url, tmp_path, holidays=["2025-09-29", "2031-05-06"]) as second:
        overview = expect(second.get(None, "/calendar"), 200)
        year = expect(second.get(None, "/calendar/2025"), 200)
    assert overview["version"] == 1
    assert overview["differs_from_source"] == [2025]
    assert overview["settings_not_recorded"] == [2031]
    assert year["holidays"] == before["holidays"]
    assert year["differences"] == {
        "holidays_only_in_log": [],
        "holidays_only_in_source": ["2025-09-29"],
        "working_weekends_only_in_log": [],
        "working_weekends_only_in_source": [],
    }
