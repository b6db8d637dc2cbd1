"""The rules of the budget performance cycle (规则), as pure functions, and their parameters (规则集).

Everything here is a pure function of its arguments: no I/O, no clock, no randomness (the re-evaluation sample is
drawn from a recorded seed with a published algorithm). Money and scores are ``Decimal``; scores are quantized to
0.01 with ROUND_HALF_UP so a replay reproduces them exactly. The numbers are parameters of a ruleset, never
constants: the defaults of :class:`RuleParameters` are ruleset version 1 (see DOMAIN.md).

One module per job — :mod:`.parameters` (the ruleset's schema), :mod:`.goals` (the indicator tree and its
weights), :mod:`.scoring` (assessments, evaluations, grades, results), :mod:`.monitoring` (deviations),
:mod:`.sampling` (the re-evaluation sample), :mod:`.dates` (due dates, disclosure periods, working days),
:mod:`.coverage` (coverage targets) — and this package the one namespace the aggregates call them by
(``rules.grade(total, params)``).
"""

from __future__ import annotations

from ledger.domain.rules.coverage import overall_goals_target
from ledger.domain.rules.dates import (
    add_working_days,
    blacklist_until,
    congress_goals_due,
    congress_results_due,
    decision_rectification_due,
    due_in_year,
    goal_submission_due,
    goals_disclosure_due,
    monitoring_report_due,
    overall_self_evaluation_due,
    results_disclosure_due,
    self_evaluation_due,
)
from ledger.domain.rules.goals import validate_goals
from ledger.domain.rules.monitoring import DeviationAssessment, DeviationLevel, deviation_level, time_progress
from ledger.domain.rules.parameter_checks import YearDate
from ledger.domain.rules.parameters import (
    DEFAULT_PARAMETERS,
    EX_ANTE_DIMENSIONS,
    MONITORING_REPORTS_UNTIL,
    QUALITATIVE_GRADES,
    RE_EVALUATION_RATE_FLOOR,
    RuleParameters,
)
from ledger.domain.rules.sampling import (
    commitment,
    commitment_digest,
    draw_sample,
    draw_seed,
    population_digest,
    random_bytes,
    sample_size,
    two_party_draw,
)
from ledger.domain.rules.scoring import (
    ControlFigureAdjustment,
    ControlFigureDecision,
    ExAnteConclusion,
    ExAnteResult,
    IndicatorScore,
    OverallSelfEvaluationScore,
    PolicyDecision,
    ResultApplication,
    SelfEvaluationScore,
    adjust_control_figure,
    adjustment_rate,
    control_figure_rate,
    ex_ante_conclusion,
    ex_ante_required,
    grade,
    indicator_score,
    is_inflated,
    overall_evaluation_total,
    overall_self_evaluation_score,
    policy_decision_default,
    re_evaluation_total,
    reduced_budget,
    result_application_default,
    self_evaluation_score,
)

__all__ = [
    "DEFAULT_PARAMETERS",
    "EX_ANTE_DIMENSIONS",
    "MONITORING_REPORTS_UNTIL",
    "QUALITATIVE_GRADES",
    "RE_EVALUATION_RATE_FLOOR",
    "ControlFigureAdjustment",
    "ControlFigureDecision",
    "DeviationAssessment",
    "DeviationLevel",
    "ExAnteConclusion",
    "ExAnteResult",
    "IndicatorScore",
    "OverallSelfEvaluationScore",
    "PolicyDecision",
    "ResultApplication",
    "RuleParameters",
    "SelfEvaluationScore",
    "YearDate",
    "add_working_days",
    "adjust_control_figure",
    "adjustment_rate",
    "blacklist_until",
    "commitment",
    "commitment_digest",
    "congress_goals_due",
    "congress_results_due",
    "control_figure_rate",
    "decision_rectification_due",
    "deviation_level",
    "draw_sample",
    "draw_seed",
    "due_in_year",
    "ex_ante_conclusion",
    "ex_ante_required",
    "goal_submission_due",
    "goals_disclosure_due",
    "grade",
    "indicator_score",
    "is_inflated",
    "monitoring_report_due",
    "overall_evaluation_total",
    "overall_goals_target",
    "overall_self_evaluation_due",
    "overall_self_evaluation_score",
    "policy_decision_default",
    "population_digest",
    "random_bytes",
    "re_evaluation_total",
    "reduced_budget",
    "result_application_default",
    "results_disclosure_due",
    "sample_size",
    "self_evaluation_due",
    "self_evaluation_score",
    "time_progress",
    "two_party_draw",
    "validate_goals",
]
