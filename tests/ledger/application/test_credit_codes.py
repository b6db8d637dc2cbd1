"""One agency per 统一社会信用代码, decided by the log: the credit-code index entry is created in the same save as the
registration (or the code's recording), so a second claim collides in the log — however it is spelled, however the
claims race; a code recorded before the index existed is found among the log's agency events."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest

import ledger.application.agencies as agencies
from ledger.application import Ledger
from ledger.domain.agencies import Agency
from ledger.domain.credit_codes import CreditCodeIndex, credit_code_id
from ledger.domain.errors import DomainError
from ledger.domain.values import Attribution
from tests.conftest import FINANCE, act
from tests.credit_codes import credit_code
from tests.ledger.application.test_application import refused

pytestmark = pytest.mark.db

CODE = credit_code(1)
SPELLINGS = [CODE, CODE.lower(), f" {CODE[:4]} {CODE[4:]} ", CODE.translate({ord(c): ord(c) + 0xFEE0 for c in CODE})]


def register(ledger: Ledger, name: str, code: str) -> Any:
    return ledger.register_agency(act(FINANCE, date(2020, 8, 1)), name, "甲级", credit_code=code)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_code_held_is_refused_in_any_spelling_and_the_holder_is_unchanged(ledger: Ledger, spelling: str) -> None:
    register(ledger, "甲评估公司", CODE)
    before = ledger.agency("甲评估公司")
    error = refused(ledger, "credit-code-taken", lambda: register(ledger, "乙评估公司", spelling))
    assert "甲评估公司" in str(error)
    refused(ledger, "agency-not-found", lambda: ledger.agency("乙评估公司"))
    after = ledger.agency("甲评估公司")
    assert (after.credit_code, after.version) == (before.credit_code, before.version) == (CODE, 1)
    index = ledger._read(CreditCodeIndex, credit_code_id(spelling), "credit-code-not-found")
    assert (index.credit_code, index.agency, index.agency_id) == (CODE, "甲评估公司", after.id)
    register(ledger, "乙评估公司", credit_code(2))  # a code of its own is fine


def test_a_code_recorded_later_is_claimed_too(ledger: Ledger) -> None:
    old = Agency.register("老评估所", "甲级", None, credit_code(3), Attribution(FINANCE, date(2019, 1, 1)))
    old.credit_code = None  # as if registered before codes were required: record its code later
    legacy = Agency._create(
        Agency.Registered,
        id=old.id,
        **Attribution(FINANCE, date(2019, 1, 1)).event_fields(),
        name="老评估所",
        credentials="甲级",
        affiliation=None,
        credit_code=None,
    )
    ledger.commit(legacy)
    register(ledger, "甲评估公司", CODE)
    fin = act(FINANCE, date(2022, 6, 1), "补录")
    refused(ledger, "credit-code-taken", lambda: ledger.record_agency_credit_code(fin, "老评估所", CODE.lower()))
    assert ledger.agency("老评估所").credit_code is None
    ledger.record_agency_credit_code(fin, "老评估所", credit_code(3))
    refused(ledger, "credit-code-taken", lambda: register(ledger, "乙评估公司", credit_code(3)))


def test_a_code_recorded_before_the_index_existed_is_found_in_the_log(ledger: Ledger) -> None:
    """An old log: an agency registered with a code, and no index entry (the save had none)."""
    ledger.commit(Agency.register("老评估所", "甲级", None, CODE, Attribution(FINANCE, date(2019, 1, 1))))
    assert not ledger.exists(credit_code_id(CODE))
    error = refused(ledger, "credit-code-taken", lambda: register(ledger, "乙评估公司", CODE))
    assert "老评估所" in str(error)


def test_a_claim_that_lost_the_race_collides_in_the_log(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check before the save saw no holder (the other claim was not saved yet): the log refuses the index."""
    register(ledger, "甲评估公司", CODE)
    checks: list[str] = []
    real = agencies.credit_code_holder

    def late(ledger: Ledger, code: str, agency_id: Any = None) -> str | None:
        checks.append(code)
        return None if len(checks) == 1 else real(ledger, code, agency_id)

    monkeypatch.setattr(agencies, "credit_code_holder", late)
    error = refused(ledger, "credit-code-taken", lambda: register(ledger, "乙评估公司", CODE))
    assert "甲评估公司" in str(error)
    assert len(checks) == 2  # before the save, and after the log refused it
    refused(ledger, "agency-not-found", lambda: ledger.agency("乙评估公司"))


def test_two_registrations_of_one_code_in_parallel_one_wins(ledger: Ledger) -> None:
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def claim(name: str) -> None:
        barrier.wait()
        try:
            register(ledger, name, CODE)
            outcomes[name] = "registered"
        except DomainError as error:
            outcomes[name] = error.code

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("甲评估公司", "乙评估公司")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["credit-code-taken", "registered"]
    [winner] = [name for name, outcome in outcomes.items() if outcome == "registered"]
    assert ledger._read(CreditCodeIndex, credit_code_id(CODE), "credit-code-not-found").agency == winner
