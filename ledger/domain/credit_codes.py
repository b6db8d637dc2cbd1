"""The credit-code index (统一社会信用代码登记): one object per 统一社会信用代码, naming the agency that holds it.

A code names one legal person, so it names one agency. The index is the eventsourcing way to keep a value unique
across aggregates: its id follows from the code (its canonical form, :func:`ledger.domain.credit_code.credit_code`),
and it is created in the same atomic save as the agency's registration or its ``CreditCodeRecorded``. A second claim
of the code creates the same id at version 1 again, which the log refuses (the library's ``IntegrityError``) — however
the claims race, in one process or several — so uniqueness is decided by the log itself, not by a read model or a
table the service writes beside it.

Codes recorded before the index existed have no entry: :mod:`ledger.application.organisations` also looks for them
among the log's agency events when a code is claimed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from ledger.domain.base import LedgerAggregate, ledger_id
from ledger.domain.credit_code import credit_code as checked_credit_code
from ledger.domain.values import Attribution


def credit_code_id(code: str) -> UUID:
    """The index entry of ``code`` (any spelling a code is typed in: its canonical form decides)."""
    return ledger_id("credit_code", checked_credit_code(code))


class CreditCodeIndex(LedgerAggregate):
    """统一社会信用代码 ``credit_code`` is held by the agency ``agency`` (its id ``agency_id``)."""

    TOPIC_MODULE = "ledger.credit_codes"

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        credit_code: str
        agency: str
        agency_id: UUID

    class Claimed(LedgerAggregate.Created):
        """The code's holder, recorded with the agency's registration (or the code's recording)."""

        credit_code: str
        agency: str
        agency_id: UUID

        def apply(self, index: CreditCodeIndex) -> None:
            index.credit_code = self.credit_code
            index.agency = self.agency
            index.agency_id = self.agency_id

    @classmethod
    def claim(cls, code: str, agency: str, agency_id: UUID, by: Attribution) -> CreditCodeIndex:
        """The entry of ``code`` (checked, canonical), held by the agency named ``agency``."""
        canonical = checked_credit_code(code)
        return cls._create(
            cls.Claimed,
            id=credit_code_id(canonical),
            **by.event_fields(),
            credit_code=canonical,
            agency=agency,
            agency_id=agency_id,
        )
