"""The two-party re-evaluation draw on PostgreSQL: who may take each step, what the draw holds back while it is open,
the scheduler's failed draw, re-evaluation by a commissioned agency, and `jixiao verify`'s recomputation."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from ledger.application import Ledger
from ledger.application.draw_check import check_draws
from ledger.domain import rules
from ledger.domain.draw import ReEvaluationSample, sample_id
from ledger.domain.values import Attribution
from tests.conftest import AGENCY, AUDITOR, EDUCATION, FINANCE, act, report
from tests.credit_codes import code_of
from tests.ledger.application.test_application import approved_project, refused
from tests.ledger.log import test_tampering
from tests.ledger.log.test_tampering import SignedLedger

pytestmark = pytest.mark.db

signed_ledger = test_tampering.signed  # the fixture: a ledger whose log is signed, and its command line

SECRET = hashlib.sha256(b"finance's draw secret").hexdigest()
COMMITMENT = rules.commitment(bytes.fromhex(SECRET))
CONTRIBUTION = hashlib.sha256(b"the audit office's contribution").hexdigest()
ACTUALS = {"I1": "5000", "I2": "200", "I3": "92", "I4": "90"}
RE_SCORES = {"decision": "14", "process": "19", "output": "33", "effect": "28"}


def evaluated_projects(ledger: Ledger, count: int = 12) -> list[UUID]:
    pids = []
    for i in range(count):
        pid = approved_project(ledger, code=f"S-{i:02}")
        ledger.self_evaluate(
            act(EDUCATION, date(2022, 2, 20), evidence=[report("self_evaluation_report")]), pid, ACTUALS, "1000000.00"
        )
        pids.append(pid)
    return pids


def announce(ledger: Ledger, commitment: str = COMMITMENT, on: date = date(2022, 4, 1)) -> None:
    ledger.announce_re_evaluation_draw(act(FINANCE, on, "2021年度财政再评价抽查公告"), 2021, commitment)


def contribute(ledger: Ledger, on: date = date(2022, 4, 6)) -> None:
    ledger.contribute_to_re_evaluation_draw(act(AUDITOR, on), 2021, CONTRIBUTION)


def reveal(ledger: Ledger, secret: str = SECRET, on: date = date(2022, 4, 8)) -> list[str]:
    ledger.reveal_re_evaluation_draw(act(FINANCE, on), 2021, secret)
    return ledger.re_evaluation_sample(2021).selected


def test_the_three_steps_draw_what_the_inputs_say_and_mark_the_projects(ledger: Ledger) -> None:
    pids = evaluated_projects(ledger)
    announce(ledger)
    contribute(ledger)
    selected = reveal(ledger)
    sample = ledger.re_evaluation_sample(2021)
    population = sorted(str(pid) for pid in pids)
    assert sample.population == population
    _, expected = rules.two_party_draw(
        population, bytes.fromhex(SECRET), bytes.fromhex(CONTRIBUTION), 2, ledger.ruleset().parameters()
    )
    assert selected == expected
    assert len(selected) == 2  # ⌈10% of 12⌉
    for pid in pids:
        assert ledger.project(pid).selected_in_sample == (str(sample_id(2021)) if str(pid) in selected else None)
    report = check_draws(ledger.database_url)
    assert (report.ok, report.samples, report.revealed, report.failed) == (True, 1, 1, 0)


def test_each_step_is_its_role_s_alone(ledger: Ledger) -> None:
    evaluated_projects(ledger, 3)
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.announce_re_evaluation_draw(act(AUDITOR, date(2022, 4, 1)), 2021, COMMITMENT),
    )
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.announce_re_evaluation_draw(act(EDUCATION, date(2022, 4, 1)), 2021, COMMITMENT),
    )
    refused(ledger, "sample-not-found", lambda: contribute(ledger))  # nothing announced yet
    announce(ledger)
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.contribute_to_re_evaluation_draw(act(FINANCE, date(2022, 4, 6)), 2021, CONTRIBUTION),
    )
    refused(ledger, "contribution-missing", lambda: reveal(ledger))
    contribute(ledger)
    refused(ledger, "already-contributed", lambda: contribute(ledger))
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.reveal_re_evaluation_draw(act(AUDITOR, date(2022, 4, 8)), 2021, SECRET),
    )
    refused(ledger, "commitment-mismatch", lambda: reveal(ledger, CONTRIBUTION))
    reveal(ledger)
    # the auditor records its contribution and nothing else here
    pid = ledger.re_evaluation_sample(2021).selected[0]
    refused(
        ledger, "role-not-allowed", lambda: ledger.re_evaluate(act(AUDITOR, date(2022, 5, 1)), UUID(pid), RE_SCORES)
    )
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.commission_re_evaluation(act(AUDITOR, date(2022, 5, 1)), UUID(pid), "x"),
    )


def test_the_single_party_draw_is_retired(ledger: Ledger) -> None:
    evaluated_projects(ledger, 2)
    refused(
        ledger,
        "draw-retired",
        lambda: ledger.draw_re_evaluation_sample(act(FINANCE, date(2022, 4, 8)), 2021, seed="抽签"),
    )
    refused(ledger, "role-not-allowed", lambda: ledger.draw_re_evaluation_sample(act(AUDITOR, date(2022, 4, 8)), 2021))


def test_no_draw_without_self_evaluated_projects_nor_before_the_year_s_end(ledger: Ledger) -> None:
    approved_project(ledger)
    refused(ledger, "self-evaluation-missing", lambda: announce(ledger))
    refused(ledger, "effective-date-too-early", lambda: announce(ledger, on=date(2021, 11, 30)))
    refused(ledger, "invalid-draw-value", lambda: announce(ledger, commitment=SECRET[:-2]))


def test_results_wait_while_the_draw_is_open_and_for_the_re_evaluation_of_a_project_drawn(ledger: Ledger) -> None:
    pids = evaluated_projects(ledger)
    announce(ledger)
    refused(ledger, "draw-pending", lambda: ledger.apply_results(act(FINANCE, date(2022, 4, 2)), pids[0]))
    contribute(ledger)
    selected = reveal(ledger)
    drawn_pid = UUID(selected[0])
    other = next(pid for pid in pids if str(pid) not in selected)
    ledger.apply_results(act(FINANCE, date(2022, 4, 9)), other)
    refused(ledger, "re-evaluation-pending", lambda: ledger.apply_results(act(FINANCE, date(2022, 4, 9)), drawn_pid))
    ledger.re_evaluate(act(FINANCE, date(2022, 5, 1)), drawn_pid, RE_SCORES)
    ledger.apply_results(act(FINANCE, date(2022, 5, 2)), drawn_pid)
    results = ledger.project(drawn_pid).results
    assert results is not None
    assert results["basis"] == "re_evaluation"


def test_a_draw_not_revealed_in_time_fails_for_everyone_to_see_and_a_new_one_follows(ledger: Ledger) -> None:
    pids = evaluated_projects(ledger)
    announce(ledger)  # Friday 1 April 2022: ten working days of the recorded calendar (清明 off, 2 April worked)
    assert ledger.re_evaluation_sample(2021).draws[0]["reveal_by"] == date(2022, 4, 18)
    assert ledger.sweep("draw-deadlines", date(2022, 4, 10)).raised == {}
    warned = ledger.sweep("draw-deadlines", date(2022, 4, 11))
    assert warned.raised == {"ReEvaluationSample.RevealApproaching": 1}
    assert ledger.sweep("draw-deadlines", date(2022, 4, 18)).raised == {}
    failed = ledger.sweep("draw-deadlines", date(2022, 4, 19))
    assert failed.raised == {"ReEvaluationSample.Failed": 1}
    assert ledger.sweep("draw-deadlines", date(2022, 4, 20)).raised == {}  # once
    sample = ledger.re_evaluation_sample(2021)
    assert (sample.draws[0]["status"], sample.draws[0]["missing"]) == ("failed", "contribution")
    refused(ledger, "draw-not-open", lambda: contribute(ledger, on=date(2022, 4, 14)))
    ledger.apply_results(act(FINANCE, date(2022, 4, 20)), pids[0])  # no draw open: results are not held back
    refused(ledger, "commitment-reused", lambda: announce(ledger, on=date(2022, 4, 21)))
    second = hashlib.sha256(b"second secret").hexdigest()
    announce(ledger, rules.commitment(bytes.fromhex(second)), on=date(2022, 4, 21))
    contribute(ledger, on=date(2022, 4, 22))
    reveal(ledger, second, on=date(2022, 4, 25))
    sample = ledger.re_evaluation_sample(2021)
    assert [draw["status"] for draw in sample.draws] == ["failed", "revealed"]
    report = check_draws(ledger.database_url)
    assert (report.ok, report.revealed, report.failed) == (True, 1, 1)


def test_an_agency_commissioned_to_re_evaluate_scores_the_re_evaluation(ledger: Ledger) -> None:
    evaluated_projects(ledger, 3)
    ledger.register_agency(
        act(FINANCE, date(2020, 8, 1)), AGENCY.organisation, "资信甲级", credit_code=code_of(AGENCY.organisation)
    )
    announce(ledger)
    contribute(ledger)
    pid = UUID(reveal(ledger)[0])
    written = ledger.commission_re_evaluation(act(FINANCE, date(2022, 4, 12)), pid, AGENCY.organisation)
    assert written.events[0].type == "Project.ReEvaluationCommissioned"
    evaluation = ledger.project(pid).commissioned_re_evaluation
    assert evaluation is not None
    refused(
        ledger,
        "re-evaluation-commissioned",
        lambda: ledger.re_evaluate(act(FINANCE, date(2022, 4, 13)), pid, RE_SCORES),
    )
    # 两审一督导 in full, as any agency's key evaluation
    plan = [report("evaluation_plan", "re-evaluation")]
    ledger.submit_key_evaluation(act(AGENCY, date(2022, 4, 12), evidence=plan), pid, evaluation, "plan")
    ledger.review_key_evaluation(act(FINANCE, date(2022, 4, 13), evidence=plan), pid, evaluation, "plan", True)
    ledger.note_key_evaluation_supervision(act(FINANCE, date(2022, 4, 14)), pid, evaluation, "督导", ["样本偏少"])
    ledger.answer_key_evaluation_supervision(act(AGENCY, date(2022, 4, 15)), pid, evaluation, 1, "已补充")
    written_report = [report("evaluation_report", "re-evaluation")]
    ledger.submit_key_evaluation(act(AGENCY, date(2022, 4, 16), evidence=written_report), pid, evaluation, "report")
    ledger.review_key_evaluation(
        act(FINANCE, date(2022, 4, 20), evidence=written_report), pid, evaluation, "report", True
    )
    ledger.score_key_evaluation(act(AGENCY, date(2022, 4, 21)), pid, evaluation, RE_SCORES)
    ledger.apply_results(act(FINANCE, date(2022, 4, 22)), pid)
    results = ledger.project(pid).results
    assert results is not None
    assert results["basis"] == "re_evaluation"


def forge_reveal(ledger: Ledger) -> tuple[ReEvaluationSample, dict[str, Any]]:
    """What an operator appending through the service's role could record: a reveal with valid hashes, naming the
    selection it likes (the first two of the population, not the ones the seed draws)."""
    evaluated_projects(ledger)
    announce(ledger)
    contribute(ledger)
    sample = ledger.re_evaluation_sample(2021)
    draw = sample.draws[0]
    chosen = draw["population"][:2]  # the operator's choice, not the draw's
    sample.trigger_event(
        ReEvaluationSample.Revealed,
        **Attribution(FINANCE, date(2022, 4, 8)).event_fields(),
        draw_no=1,
        secret=SECRET,
        seed=rules.draw_seed(bytes.fromhex(SECRET), bytes.fromhex(CONTRIBUTION), draw["population_digest"]),
        selected=chosen,
    )
    assert sample.verify_revealed() != []  # the domain itself would not have recorded it
    ledger.save(sample)
    return sample, draw


def test_verify_recomputes_a_forged_reveal_and_fails(ledger: Ledger) -> None:
    """The operator can append an event with valid hashes naming any selection: only the recomputation shows it."""
    sample, draw = forge_reveal(ledger)
    report = check_draws(ledger.database_url)
    assert not report.ok
    assert report.failures == [
        "re-evaluation draw 1 of 2021: the recorded selection is not the one its seed draws (recomputed: "
        + ", ".join(rules.draw_sample(draw["population"], sample.seed or "", rules.DEFAULT_PARAMETERS, 2))
        + ")"
    ]


def test_an_intact_ledger_without_draws_checks_nothing(ledger: Ledger) -> None:
    report = check_draws(ledger.database_url)
    assert (report.ok, report.samples, report.events) == (True, 0, 0)


def test_jixiao_verify_recomputes_every_draw(signed_ledger: SignedLedger) -> None:
    ledger = signed_ledger.ledger
    evaluated_projects(ledger)
    announce(ledger)
    contribute(ledger)
    reveal(ledger)
    result = signed_ledger.run_cli("verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 1 re-evaluation draws recomputed from their secret, contribution and population" in result.stdout


def test_jixiao_verify_fails_on_a_forged_reveal(signed_ledger: SignedLedger) -> None:
    forge_reveal(signed_ledger.ledger)
    result = signed_ledger.run_cli("verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED: re-evaluation draw 1 of 2021: the recorded selection is not the one its seed draws" in result.stderr
