"""What ``jixiao demo`` prints once the story has run: both fiscal years as the ledger now holds them — read from
the ledger's objects, not from the story's data, so a second run shows what the first recorded."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from api.cli.demo_organisations import OrganisationSteps
from api.cli.demo_story import (
    AUDIT_FINDINGS,
    AUDIT_REPORT,
    BAD_AGENCY,
    DECISIONS,
    DEPARTMENTS,
    NEXT_YEAR,
    OK_AGENCY,
    PROJECTS_2022,
    UNITS,
    YEAR,
)
from ledger.application import Ledger
from ledger.domain import rules
from ledger.domain.errors import NotFound
from ledger.domain.findings import finding_id


@dataclass
class DemoSummary:
    projects: int
    events: int
    by_year: dict[int, int]  # projects declared, per fiscal year
    by_stage: dict[int, dict[str, int]]  # per fiscal year
    by_grade: dict[str, int]  # the final evaluation's grade of each evaluated project
    blacklist: list[dict[str, Any]]
    refusals: list[str] = field(default_factory=list)
    scheduled: dict[str, int] = field(default_factory=dict)  # what the scheduler's sweeps raised, by event type
    scheduled_on: dict[int, date] = field(default_factory=dict)  # log position -> the simulated day it was raised
    overall: dict[int, dict[str, Any]] = field(default_factory=dict)  # per year: organisations with approved goals
    control_figures: list[dict[str, Any]] = field(default_factory=list)  # set by the overall results
    continuations: list[dict[str, Any]] = field(default_factory=list)  # each beside the earlier result
    decisions: list[dict[str, Any]] = field(default_factory=list)
    audit_findings: list[dict[str, Any]] = field(default_factory=list)


def summarise(ledger: Ledger, refusals: list[str] | None = None) -> DemoSummary:
    stages: dict[int, Counter[str]] = {}
    grades: Counter[str] = Counter()
    for pid in ledger.project_ids():
        project = ledger.project(pid)
        stages.setdefault(project.fiscal_year, Counter())[project.stage] += 1
        basis = project.evaluation_basis()
        if basis is not None:
            grades[basis[1]] += 1
    blacklist = []
    for name in (OK_AGENCY, BAD_AGENCY):
        for entry in ledger.agency(name).blacklistings:
            blacklist.append({"agency": name, **entry})
    return DemoSummary(
        projects=sum(sum(counted.values()) for counted in stages.values()),
        events=ledger.head(),
        by_year={year: sum(counted.values()) for year, counted in sorted(stages.items())},
        by_stage={year: dict(counted) for year, counted in sorted(stages.items())},
        by_grade=dict(grades),
        blacklist=blacklist,
        refusals=list(refusals or []),
        overall={year: _overall(ledger, year) for year in (YEAR, NEXT_YEAR)},
        control_figures=_control_figures(ledger),
        continuations=_continuations(ledger),
        decisions=_decisions(ledger),
        audit_findings=_audit_findings(ledger),
    )


def _approved(ledger: Ledger, name: str, year: int) -> bool:
    try:
        return ledger.overall_goals(name, year).approved
    except NotFound:
        return False


def _overall(ledger: Ledger, year: int) -> dict[str, Any]:
    """The story's departments and units with approved overall goals in ``year``, against the year's target."""
    return {
        "departments": sum(_approved(ledger, name, year) for name in DEPARTMENTS),
        "of_departments": len(DEPARTMENTS),
        "units": sum(_approved(ledger, name, year) for name in UNITS),
        "of_units": len(UNITS),
        "target": rules.overall_goals_target(year, ledger.ruleset().parameters()),
    }


def _control_figures(ledger: Ledger) -> list[dict[str, Any]]:
    found = []
    for name in DEPARTMENTS:
        try:
            goals = ledger.overall_goals(name, YEAR)
        except NotFound:
            continue
        if goals.results is not None and goals.control_figure is not None:
            found.append({"department": name, "grade": goals.results["grade"], **goals.control_figure})
    return found


def _continuations(ledger: Ledger) -> list[dict[str, Any]]:
    found = []
    for spec in PROJECTS_2022:
        if spec.continues is None:
            continue
        try:
            project = ledger.project(ledger.project_id_of(spec.year, spec.code))
        except NotFound:
            continue
        earlier = ledger.project(ledger.project_id_of(spec.year - 1, spec.continues))
        found.append(
            {
                "code": spec.code,
                "earlier": spec.continues,
                "grade": None if earlier.results is None else earlier.results["grade"],
                "decision": None if earlier.results is None else earlier.results["decision"],
                "cap": None if earlier.results is None else earlier.results["next_year_budget"],
                "requested": project.requested,
                "approved": project.approved_amount,
                "override": spec.override is not None and project.approved_amount is not None,
            }
        )
    return found


def _decisions(ledger: Ledger) -> list[dict[str, Any]]:
    steps = OrganisationSteps(ledger, ledger.ruleset().parameters())
    found = []
    for decision in DECISIONS:
        did = steps.decision_id_of(decision)
        if ledger.exists(did):
            rectification = ledger.decision(did).rectification
            found.append(
                {
                    "kind": decision.kind,
                    "organisation": decision.organisation,
                    "basis": decision.basis,
                    "rectification": None if rectification is None else rectification["status"],
                }
            )
    return found


def _audit_findings(ledger: Ledger) -> list[dict[str, Any]]:
    """The story's audit findings as recorded: each one's subject, how many findings, when it was answered."""
    found = []
    for subject_kind, subject, *_ in AUDIT_FINDINGS:
        try:
            subject_id = (
                ledger.project_id_of(YEAR, subject) if subject_kind == "project" else ledger.organisation(subject).id
            )
        except NotFound:
            continue
        fid = finding_id(subject_kind, subject_id, AUDIT_REPORT)
        if ledger.exists(fid):
            finding = ledger.audit_finding(fid)
            found.append(
                {
                    "subject": finding.subject,
                    "reference": finding.reference,
                    "findings": len(finding.findings),
                    "due": finding.response_due,
                    "answered": None if finding.response is None else finding.response["on"],
                }
            )
    return found


KIND_ZH = {"praise": "通报表扬", "criticism": "通报批评", "commendation": "表彰", "interview": "约谈"}


def _money(amount: Decimal | None) -> str:
    return "—" if amount is None else f"{amount:,.2f}"


def format_summary(summary: DemoSummary) -> str:
    years = sorted(summary.by_year)
    counted = ", ".join(f"{summary.by_year[year]} of {year}" for year in years)
    lines = [
        f"Fiscal years {' and '.join(map(str, years))}: {summary.projects} projects ({counted}), "
        f"{summary.events} events in the ledger",
        "",
        f"{'By stage:':<20}" + "".join(f"{year:>6}" for year in years),
    ]
    stages = sorted({stage for counted_stages in summary.by_stage.values() for stage in counted_stages})
    lines += [
        f"  {stage:<18}" + "".join(f"{summary.by_stage[year].get(stage, 0):>6}" for year in years) for stage in stages
    ]
    lines += ["", "By grade (final evaluation):"]
    lines += [f"  {grade}  {count:>3}" for grade, count in sorted(summary.by_grade.items())]
    if summary.overall:
        lines += ["", "Overall goals approved (部门和单位整体绩效目标):"]
        for year, item in sorted(summary.overall.items()):
            share = Decimal(100 * item["departments"]) / item["of_departments"]
            lines.append(
                f"  {year}: {item['departments']} of {item['of_departments']} departments ({share:.1f}%, target "
                f"{item['target']:.0f}%), {item['units']} of {item['of_units']} units"
            )
    if summary.control_figures:
        lines += ["", f"{NEXT_YEAR} control figures set by the {YEAR} overall results (控制数):"]
        for item in summary.control_figures:
            lines.append(
                f"  {item['grade']}  {_money(item['control_figure']):>15} -> {_money(item['next_control_figure']):>15} "
                f"({item['rate']:+.0%})  {item['department']}"
            )
    if summary.continuations:
        lines += ["", f"{YEAR} results into {NEXT_YEAR} budgets (结果应用):"]
        for item in summary.continuations:
            head = f"  {item['code']} continues {item['earlier']} ({item['grade']}, {item['decision']}): "
            if item["approved"] is None:
                lines.append(head + f"{_money(item['requested'])} asked, not approved")
            elif item["override"]:
                lines.append(head + f"{_money(item['approved'])} approved, overriding the cap of {_money(item['cap'])}")
            elif item["cap"] is not None:
                within = "at" if item["approved"] == item["cap"] else "within"
                lines.append(
                    head + f"{_money(item['approved'])} approved {within} the cap ({_money(item['requested'])} asked)"
                )
            else:
                priority = ", 优先保障" if item["decision"] == "prioritise" else ""
                lines.append(head + f"{_money(item['approved'])} approved{priority}")
    if summary.decisions:
        lines += ["", f"Decisions after the {YEAR} ranking and evaluations (通报 / 约谈):"]
        for item in summary.decisions:
            follow_up = "" if item["rectification"] is None else f", rectification {item['rectification']}"
            lines.append(f"  {KIND_ZH[item['kind']]} {item['organisation']} (on the {item['basis']}){follow_up}")
    if summary.audit_findings:
        lines += ["", "Audit findings (审计发现), each to be answered by its department:"]
        for item in summary.audit_findings:
            answered = item["answered"]
            when = "not answered" if answered is None else f"answered {answered}"
            late = ", late" if answered is None or answered > item["due"] else ""
            lines.append(
                f"  {item['reference']} {item['subject']}: {item['findings']} findings, due {item['due']}, {when}{late}"
            )
    lines += ["", "Blacklist (失信黑名单):"]
    for entry in summary.blacklist:
        ended = f", ended {entry['ended']} ({entry['ended_how']})" if entry["ended"] else ""
        lines.append(f"  {entry['agency']}: {entry['start']} to {entry['until']}{ended}")
    if summary.scheduled:
        lines += ["", "Raised by the scheduler (system), each on the day it fell due:"]
        lines += [f"  {name:<36} {count:>3}" for name, count in sorted(summary.scheduled.items())]
    if summary.refusals:
        lines += ["", "Refused, as the rules require:"] + [f"  {item}" for item in summary.refusals]
    return "\n".join(lines)
