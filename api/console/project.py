"""The project page (项目档案): every event of one project, its state at any moment, its goals against actuals, the
monitoring chart, evaluations, results and rectifications — and a badge that checks, in the reader's browser, that
every event shown is in the log the bureau signed (static/project.js with static/verify.js).

Everything is read through the API's own routes with the reader's token (:func:`api.console.pages.forward`): the
history (``/projects/{id}/history``), the state at a version or instant (``/projects/{id}/state``), the rulesets
(``/rulesets``) and, in the browser, the audit bundle (``/projects/{id}/bundle``). A project's history is kept
between pages for its head version (:class:`HistoryCache`): events never change once recorded. Who may see a
project's page is who may read its history: finance, auditors and the project's own department (its units' staff for
their unit's).

``/console/verifier`` is where a reader pins the log's verifier key (and the witnesses' keys) in the browser's
localStorage, with the service's published key and its rotations shown beside it to compare with what the bureau
published elsewhere. The badge trusts only what is pinned there.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from api.console.charts import Point, decimal, monitoring_svg, points
from api.console.pages import SignedIn, forward, lang_of, render, router
from api.console.project_strings import PROJECT_STRINGS as PROJECT_STRINGS  # the page's words, read here too
from api.console.project_strings import SCRIPT_WORDS
from api.console.strings import STRINGS, translate
from api.problems import TYPE_PREFIX, EdgeProblem
from ledger.domain.errors import InvalidInput, NotFound

CHINA = timezone(timedelta(hours=8))  # a date picked on the page is a day in Beijing time

for _key, _words in PROJECT_STRINGS.items():  # added to the console's words, never replacing one of them
    STRINGS.setdefault(_key, _words)


# --------------------------------------------------------------------------------------------- reading the API


async def api_json(request: Request, path: str, **params: Any) -> Any:
    """GET an API path as the page's reader; its JSON, or the API's refusal raised as the console shows one."""
    status, body = await forward(request, path, {k: v for k, v in params.items() if v is not None})
    if status == 200:
        return json.loads(body)
    try:
        problem = json.loads(body)
        code = str(problem.get("type", "")).removeprefix(TYPE_PREFIX) or "internal-error"
        detail = str(problem.get("detail", ""))
    except (ValueError, AttributeError):
        code, detail = "internal-error", ""
    raise EdgeProblem(code, detail)


class HistoryCache:
    """The history the API answered for a project at a head version, kept for the next page of the same project.

    A project's events up to version V never change (the log refuses UPDATE and DELETE, and each entry of
    ``/projects/{id}/history`` is a function of its stored event), so the history at head V is the same list however
    often it is asked: only a new event makes a new head, and a new key. The reader's right to it is the API's, checked
    on every page by the ``/projects/{id}/state`` read that gives the head (the same rule as the history's). Reading
    and decoding a 1,000-event history is most of a page's time; the slider asks for the page again and again."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._entries: OrderedDict[UUID, tuple[int, list[dict[str, Any]]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, project_id: UUID, head: int) -> list[dict[str, Any]] | None:
        with self._lock:
            found = self._entries.get(project_id)
            if found is None or found[0] != head:
                return None
            self._entries.move_to_end(project_id)
            return found[1]

    def put(self, project_id: UUID, history: list[dict[str, Any]]) -> None:
        if not history:
            return
        with self._lock:
            self._entries[project_id] = (int(history[-1]["version"]), history)
            self._entries.move_to_end(project_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


HISTORIES = HistoryCache()


async def history_at(request: Request, project_id: UUID, head: int) -> list[dict[str, Any]]:
    """The project's history through the API (``/projects/{id}/history``), or as it answered at this head before."""
    cached = HISTORIES.get(project_id, head)
    if cached is not None:
        return cached
    history: list[dict[str, Any]] = await api_json(request, f"/projects/{project_id}/history")
    HISTORIES.put(project_id, history)
    return history


# --------------------------------------------------------------------------------------------- the view


@dataclass
class Row:
    """One event of the timeline."""

    version: int
    leaf_index: int
    leaf_hash: str
    event_type: str
    label: str
    who: str
    role: str
    organisation: str
    effective_on: str
    recorded_at: str
    reason: str
    evidence: list[str]


@dataclass
class IndicatorRow:
    key: str
    level1: str
    level2: str
    name: str
    target: str
    unit: str
    weight: str
    progress: str
    actual: str
    score: str
    met: bool | None


@dataclass
class ProjectView:
    project_id: UUID
    rows: list[Row]
    state: dict[str, Any]
    version: int
    latest: int
    as_of: str
    on: str
    indicators: list[IndicatorRow] = field(default_factory=list)
    chart: list[Point] = field(default_factory=list)
    chart_svg: str = ""
    ruleset_version: int | None = None


def timeline(history: list[dict[str, Any]], lang: str) -> list[Row]:
    rows = []
    for entry in history:
        principal = entry["principal"]
        rows.append(
            Row(
                version=entry["version"],
                leaf_index=entry["leaf_index"],
                leaf_hash=entry["leaf_hash"],
                event_type=entry["event_type"],
                label=(entry.get("event_type_zh") or entry["event_type"]) if lang == "zh" else entry["event_type"],
                who=principal.get("id") or "",
                role=(principal.get("role_zh") or principal["role"]) if lang == "zh" else principal["role"],
                organisation=principal.get("organisation") or "",
                effective_on=entry.get("effective_on") or "",
                recorded_at=_local_time(entry["recorded_at"]),
                reason=entry.get("reason") or "",
                evidence=list(entry.get("evidence") or []),
            )
        )
    return rows


def timeline_rows(view: ProjectView, page: str) -> Markup:
    """The timeline's rows as HTML, made here rather than cell by cell in the template (which took most of a
    1,000-event page's time; ``Markup.format``, a Python-level formatter, took as long). Every value passes through
    ``escape``; the row's data-* attributes are what project.js holds to the signed event."""
    e = escape
    href = e(page)
    out = []
    for row in view.rows:
        v, label, who, reason = row.version, e(row.label), e(row.who), e(row.reason)
        effective, recorded, leaf = e(row.effective_on), e(row.recorded_at), e(row.leaf_hash)
        digests = (
            "<br>".join(f'<code title="{e(d)}">{e(d[:12])}…</code>' for d in row.evidence)
            or '<span class="muted">—</span>'
        )
        mark = ""
        if v > view.version:
            mark = ' class="later"'
        elif v == view.version:
            mark = ' class="current" aria-current="step"'
        out.append(
            f'<tr id="v{v}" data-version="{v}" data-leaf-hash="{leaf}" data-label="{label}" '
            f'data-effective="{effective}" data-recorded="{recorded}" data-who="{who}" data-reason="{reason}" '
            f'data-evidence="{e(" ".join(row.evidence))}"{mark}>'
            f'<td class="num"><a href="{href}?version={v}">{v}</a></td><td>{label}</td>'
            f'<td>{who}<br><span class="muted">{e(row.role)} · {e(row.organisation)}</span></td>'
            f'<td class="nowrap">{effective}</td><td class="nowrap">{recorded}</td><td>{reason}</td><td>{digests}</td>'
            f'<td class="num"><span title="{leaf}">{row.leaf_index}</span></td>'
            '<td class="check" data-check><span class="muted">…</span></td></tr>\n'
        )
    return Markup("".join(out))  # noqa: S704 (every value above is escaped; versions and leaf indexes are ints)


def _local_time(text: str) -> str:
    """A recorded time in Beijing time, to the second (the exact instant is in the title and the bundle)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def approved_when_reported(history: list[dict[str, Any]], upto: int) -> list[tuple[int, Decimal, Decimal | None]]:
    """Each monitoring report up to version ``upto``: its month, the amount executed and the amount approved when it
    was reported (the budget approved, less the reductions ordered before it: what its execution rate is of)."""
    approved: Decimal | None = None
    reports = []
    for entry in history:
        if entry["version"] > upto:
            break
        kind, payload = entry["event_type"], entry.get("payload") or {}
        if kind == "Project.BudgetApproved":
            approved = decimal(payload.get("amount"))
        elif kind == "Project.CorrectiveActionOrdered" and payload.get("decision") == "reduce_budget":
            cut = decimal(payload.get("amount"))
            if approved is not None and cut is not None:
                approved -= cut
        elif kind == "Project.MonitoringReported":
            executed = decimal(payload.get("executed")) or Decimal(0)
            reports.append((int(payload["month"]), executed, approved))
    latest: dict[int, tuple[int, Decimal, Decimal | None]] = {}
    for report in reports:  # a month reported again: its latest report counts
        latest[report[0]] = report
    return [latest[month] for month in sorted(latest)]


_OPERATORS = {
    ">=": lambda a, t: a >= t,
    "<=": lambda a, t: a <= t,
    "=": lambda a, t: a == t,
    ">": lambda a, t: a > t,
    "<": lambda a, t: a < t,
}


def indicator_rows(state: dict[str, Any]) -> list[IndicatorRow]:
    """The goals' indicators with the latest monitored progress, the self-evaluation's actuals and scores."""
    monitoring = state.get("monitoring") or []
    progress = (monitoring[-1].get("indicator_progress") or {}) if monitoring else {}
    evaluation = state.get("self_evaluation") or {}
    actuals = evaluation.get("actuals") or {}
    scores = evaluation.get("indicator_scores") or {}
    rows = []
    for goal in state.get("goals") or []:
        key = goal.get("key", "")
        actual = actuals.get(key)
        met: bool | None = None
        if actual is not None and goal.get("operator") in _OPERATORS:
            a, t = decimal(actual), decimal(goal.get("target"))
            met = None if a is None or t is None else bool(_OPERATORS[goal["operator"]](a, t))
        elif actual is not None and goal.get("operator") == "qualitative":
            met = actual in ("好", "较好") or actual == goal.get("target")
        rows.append(
            IndicatorRow(
                key=key,
                level1=goal.get("level1", ""),
                level2=goal.get("level2", ""),
                name=goal.get("name", ""),
                target=f"{'' if goal.get('operator') == 'qualitative' else goal.get('operator', '')} "
                f"{goal.get('target', '')}".strip(),
                unit=goal.get("unit") or "",
                weight=str(goal.get("weight", "")),
                progress="" if progress.get(key) is None else f"{progress[key]}%",
                actual="" if actual is None else str(actual),
                score="" if scores.get(key) is None else str(scores[key]),
                met=met,
            )
        )
    return rows


def ruleset_in_force(history: list[dict[str, Any]], upto: int) -> int | None:
    """The ruleset version the latest decision up to ``upto`` recorded (the one its thresholds came from)."""
    found = None
    for entry in history:
        if entry["version"] <= upto and (entry.get("payload") or {}).get("ruleset_version") is not None:
            found = int(entry["payload"]["ruleset_version"])
    return found


def thresholds_of(rulesets: dict[str, Any], version: int | None) -> tuple[list[tuple[int, Decimal]], Decimal]:
    chosen = str(version if version is not None else rulesets.get("current_version", 1))
    params = (rulesets.get("versions") or {}).get(chosen) or {}
    steps = [(int(month), Decimal(str(rate))) for month, rate in params.get("deviation_thresholds") or []]
    return steps, Decimal(str(params.get("red_margin_points", "15")))


def version_on(history: list[dict[str, Any]], on: date) -> int | None:
    """The last version whose event took effect on or before ``on`` (valid time), or None before the first."""
    found = None
    for entry in history:
        effective = entry.get("effective_on")
        if effective is not None and date.fromisoformat(effective) <= on:
            found = entry["version"]
    return found


async def project_view(
    request: Request, project_id: UUID, version: int | None, as_of: datetime | None, on: date | None
) -> ProjectView:
    lang = lang_of(request)
    # the project now: the API's check of who may read its history and past states, and the head version
    head: dict[str, Any] = await api_json(request, f"/projects/{project_id}/state")
    history = await history_at(request, project_id, int(head["version"]))
    latest = history[-1]["version"] if history else 0
    if on is not None and version is None and as_of is None:
        version = version_on(history, on)
        if version is None:
            raise NotFound(f"nothing of the project took effect by {on.isoformat()}", code="not-yet-existing")
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=CHINA)
    if version is None and as_of is None:
        read = head
    else:
        read = await api_json(
            request,
            f"/projects/{project_id}/state",
            version=version,
            as_of=None if as_of is None or version is not None else as_of.isoformat(),
        )
    shown = int(read["version"])
    state: dict[str, Any] = read["state"]
    rulesets: dict[str, Any] = await api_json(request, "/rulesets")
    ruleset = ruleset_in_force(history, shown)
    steps, margin = thresholds_of(rulesets, ruleset)
    chart = points(approved_when_reported(history, shown), state.get("deviations") or [], steps)

    def t(key: str) -> str:
        return translate(lang, key)

    words = {
        "title": t("chart_title"),
        "desc": t("chart_desc"),
        "progress": t("time_progress"),
        "threshold": t("threshold"),
        "red_line": t("red_zone"),
        "rate": t("execution_rate"),
        "month": t("month"),
    }
    return ProjectView(
        project_id=project_id,
        rows=timeline(history, lang),
        state=state,
        version=shown,
        latest=latest,
        as_of="" if as_of is None else as_of.isoformat(),
        on="" if on is None else on.isoformat(),
        indicators=indicator_rows(state),
        chart=chart,
        chart_svg=monitoring_svg(chart, steps, margin, words) if chart else "",
        ruleset_version=ruleset,
    )


def _as_of(value: str | None) -> datetime | None:
    """``as_of`` from the page's form: a date (the end of that day in Beijing), a local time or an ISO instant."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(23, 59, 59, 999999), CHINA)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"as_of {value!r} is not a date or an ISO 8601 time", code="invalid-date") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA)


Version = Annotated[int | None, Query(ge=1)]


@router.get("/projects/{project_id}")
async def project_page(
    request: Request,
    project_id: UUID,
    principal: SignedIn,
    version: Version = None,
    as_of: str | None = None,
    on: date | None = None,
) -> HTMLResponse:
    """项目档案: the timeline, the state at any moment, goals, monitoring, evaluations and the verification badge."""
    view = await project_view(request, project_id, version, _as_of(as_of), on)
    title = f"{view.state.get('code', '')} {view.state.get('name', '')}"
    return render(
        request, "project.html", view=view, title=title, script_words=SCRIPT_WORDS, timeline_rows=timeline_rows
    )


@router.get("/projects/{project_id}/at")
async def project_state_fragment(
    request: Request,
    project_id: UUID,
    principal: SignedIn,
    version: Version = None,
    as_of: str | None = None,
    on: date | None = None,
) -> HTMLResponse:
    """The state sections alone, at a version, a date or an instant: what the slider swaps into the page."""
    view = await project_view(request, project_id, version, _as_of(as_of), on)
    return render(request, "project_state.html", view=view)


@router.get("/verifier")
async def verifier_page(request: Request, principal: SignedIn) -> HTMLResponse:
    """校验密钥: pin the log's verifier key and the witnesses' keys in this browser, beside the published ones."""
    keys = await api_json(request, "/log/keys")
    log = getattr(request.app.state, "log", None)
    witnesses = [endpoint.key.to_string() for endpoint in getattr(log, "witnesses", None) or ()]
    return render(request, "verifier.html", keys=keys, witnesses=witnesses)
