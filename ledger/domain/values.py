"""Value objects and validators shared by every aggregate.

Money is ``Decimal`` with two places (fen), scores are ``Decimal`` 0-100, dates
are ``datetime.date``, text is stored exactly as given and compared by its
:func:`key`. Every validator raises :class:`~ledger.errors.InvalidInput`
naming the field.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from ledger.domain.errors import InvalidInput

FEN = Decimal("0.01")
MAX_MONEY = Decimal("999999999999.99")  # under a trillion yuan: beyond any one project
HUNDRED = Decimal(100)
SHORT_TEXT = 200
LONG_TEXT = 4000

E = TypeVar("E", bound=StrEnum)


class Role(StrEnum):
    FINANCE = "finance"  # 财政局
    DEPARTMENT = "department"  # 预算部门/单位
    AGENCY = "agency"  # 第三方机构
    AUDITOR = "auditor"  # 审计 / 人大监督
    PUBLIC = "public"  # 社会公众
    ADMIN = "admin"  # 系统管理员
    SYSTEM = "system"  # scheduler


class ProjectKind(StrEnum):
    PROJECT = "project"
    POLICY = "policy"


class BudgetBook(StrEnum):
    GENERAL_PUBLIC = "general_public"  # 一般公共预算
    GOVERNMENT_FUND = "government_fund"  # 政府性基金预算
    STATE_CAPITAL = "state_capital"  # 国有资本经营预算
    SOCIAL_INSURANCE = "social_insurance"  # 社会保险基金预算


class SpecialCategory(StrEnum):
    PPP = "ppp"
    PROCUREMENT = "procurement"  # 政府采购
    SERVICE_PURCHASE = "service_purchase"  # 政府购买服务
    DEBT = "debt"  # 政府债务
    INVESTMENT_FUND = "investment_fund"  # 政府投资基金


class Level1(StrEnum):
    OUTPUT = "output"  # 产出
    COST = "cost"  # 成本
    EFFECT = "effect"  # 效益
    SATISFACTION = "satisfaction"  # 满意度


LEVEL2: dict[Level1, frozenset[str]] = {
    Level1.OUTPUT: frozenset({"quantity", "quality", "timeliness"}),
    Level1.COST: frozenset({"economic", "social", "ecological"}),
    Level1.EFFECT: frozenset({"economic", "social", "ecological", "sustainable"}),
    Level1.SATISFACTION: frozenset({"service_users"}),
}


class Operator(StrEnum):
    GE = ">="
    LE = "<="
    EQ = "="
    GT = ">"
    LT = "<"
    QUALITATIVE = "qualitative"


class Qualitative(StrEnum):
    GOOD = "好"
    FAIRLY_GOOD = "较好"
    AVERAGE = "一般"
    POOR = "较差"


class DocumentType(StrEnum):
    """The catalogue of documents evidence may be typed with (文书类型)."""

    EX_ANTE_REPORT = "ex_ante_report"  # 事前绩效评估报告
    SELF_EVALUATION_REPORT = "self_evaluation_report"  # 绩效自评报告
    MONITORING_REPORT = "monitoring_report"  # 绩效运行监控报告
    EVALUATION_PLAN = "evaluation_plan"  # 评价方案
    EVALUATION_REPORT = "evaluation_report"  # 评价报告
    SUPERVISION_OPINION = "supervision_opinion"  # 督导意见
    RECTIFICATION_REPORT = "rectification_report"  # 整改报告
    AUDIT_REPORT = "audit_report"  # 审计报告
    OTHER = "other"  # 其他


class Grade(StrEnum):
    EXCELLENT = "优"
    GOOD = "良"
    FAIR = "中"
    POOR = "差"


@dataclass(frozen=True)
class Principal:
    """Who acted: an id, a role and the organisation they act for."""

    id: str
    role: str
    organisation: str

    def __post_init__(self) -> None:
        text(self.id, "principal.id", max_length=SHORT_TEXT)
        # Stored as the plain value so a replayed event equals the live one.
        object.__setattr__(self, "role", str(enum_value(Role, self.role, "principal.role").value))
        text(self.organisation, "principal.organisation", max_length=SHORT_TEXT, required=False)

    @property
    def is_system(self) -> bool:
        return self.role == Role.SYSTEM

    def acts_for(self, organisation: str | None) -> bool:
        """Whether this principal's organisation is ``organisation``, however either is spelled."""
        return organisation is not None and key(self.organisation) == key(organisation)


@dataclass(frozen=True)
class Document:
    """A document cited as evidence: its SHA-256 digest, its type from the catalogue, and the name it was filed under
    (optional). Stored in an event's ``documents`` as a plain mapping (:meth:`stored`)."""

    digest: str
    type: str
    name: str | None = None

    def stored(self) -> dict[str, str | None]:
        return {"digest": self.digest, "type": self.type, "name": self.name}


@dataclass(frozen=True)
class Attribution:
    """Who acts, when it takes effect in business terms, why, and on what evidence: what every event records.

    One value where the four always travel together — from the application's ``Act``, through an aggregate's
    command method, into the event it records (whose stored fields stay ``principal``, ``effective_on``,
    ``reason`` and ``evidence``). It is checked where it enters the ledger (the application's ``Act`` validates the
    reason and the evidence, SHA-256 digests of the documents cited); an aggregate records it as given.
    """

    principal: Principal
    effective_on: date
    reason: str = ""
    evidence: Sequence[str] = ()
    documents: Sequence[Document] = ()  # the typed ones among the evidence (their digests are in it too)

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", tuple(self.evidence))  # frozen all the way down
        object.__setattr__(self, "documents", tuple(self.documents))

    def event_fields(self) -> dict[str, Any]:
        """The attribution as an event's fields (evidence stored as a list, as it always was; typed documents, when
        there are any, as ``documents``: :meth:`ledger.domain.base.LedgerAggregate.trigger_event`)."""
        fields: dict[str, Any] = {
            "principal": self.principal,
            "effective_on": self.effective_on,
            "reason": self.reason,
            "evidence": list(self.evidence),
        }
        if self.documents:
            fields["documents"] = [document.stored() for document in self.documents]
        return fields

    def cites(self, kind: DocumentType) -> bool:
        """Whether a document of type ``kind`` is among the evidence."""
        return any(document.type == kind.value for document in self.documents)


@dataclass(frozen=True)
class Indicator:
    """One level-3 performance indicator (三级指标) of a project's goals.

    ``target`` is a number for quantitative operators and one of 好/较好/一般/较差
    for ``qualitative``; ``key`` is unique within the goals and stable across
    revisions so monitoring and self-evaluation can refer to it.
    """

    key: str
    level1: str
    level2: str
    name: str
    operator: str
    target: Decimal | str
    unit: str
    weight: Decimal
    library_ref: str | None = None


def money(value: object, field: str = "amount", *, allow_zero: bool = True) -> Decimal:
    """A non-negative amount in yuan with at most two places (fen)."""
    amount = _decimal(value, field, code="invalid-money")
    if amount < 0:
        raise InvalidInput(f"{field} must not be negative: {value}", code="invalid-money", field=field)
    if not allow_zero and amount == 0:
        raise InvalidInput(f"{field} must be positive", code="invalid-money", field=field)
    if amount == 0:
        amount = Decimal(0)  # no negative zero in the ledger
    if amount > MAX_MONEY:  # before quantize(), which cannot hold 1e309
        raise InvalidInput(f"{field} is implausibly large: {value}", code="invalid-money", field=field)
    if amount != amount.quantize(FEN):
        raise InvalidInput(f"{field} has more than two places (fen): {value}", code="invalid-money", field=field)
    return amount.quantize(FEN)


def score(value: object, field: str = "score", *, maximum: Decimal = HUNDRED) -> Decimal:
    """A score between 0 and ``maximum`` (default 100)."""
    result = _decimal(value, field, code="invalid-score")
    if not Decimal(0) <= result <= maximum:
        raise InvalidInput(f"{field} must be between 0 and {maximum}: {value}", code="invalid-score", field=field)
    return result


def number(value: object, field: str) -> Decimal:
    """A finite decimal number (targets, actuals, percentages)."""
    result = _decimal(value, field, code="invalid-value")
    if abs(result) > Decimal("1e15"):
        raise InvalidInput(f"{field} is implausibly large: {value}", field=field)
    return result


def _decimal(value: object, field: str, *, code: str) -> Decimal:
    if isinstance(value, bool):
        raise InvalidInput(f"{field} must be a number, not a boolean", code=code, field=field)
    if isinstance(value, float):
        # Floats are refused, not rounded: 0.1 + 0.2 is not money.
        if not math.isfinite(value):
            raise InvalidInput(f"{field} must be finite", code=code, field=field)
        raise InvalidInput(f"{field} must be given as a decimal string or integer, not a float", code=code, field=field)
    if isinstance(value, Decimal | int | str):
        try:
            result = Decimal(value)
        except (InvalidOperation, ValueError):
            raise InvalidInput(f"{field} is not a number: {value!r}", code=code, field=field) from None
        if not result.is_finite():
            raise InvalidInput(f"{field} must be finite", code=code, field=field)
        return result
    raise InvalidInput(f"{field} must be a number", code=code, field=field)


# Unicode's control characters (category Cc: U+0000–U+001F and U+007F–U+009F) but tab and newline, and the
# surrogates (category Cs), as character classes: a regular expression scans text in C, where asking
# unicodedata.category of every character cost a command more than deciding it.
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SURROGATE = re.compile("[\ud800-\udfff]")


def text(value: object, field: str, *, max_length: int = SHORT_TEXT, required: bool = True) -> str:
    """Text stored exactly as given (an audit ledger keeps what it was told), bounded, without control characters.

    Nothing is normalised: spellings of one name are recognised as one by their :func:`key`. The length is counted
    as a reader counts it (in NFC), so a decomposed spelling is not refused for its combining marks.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    if required and not value.strip():
        raise InvalidInput(f"{field} is required", field=field)
    if len(value) > max_length and len(nfc(value)) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", code="text-too-long", field=field)
    if CONTROL_CHARACTER.search(value):
        raise InvalidInput(f"{field} contains control characters", field=field)
    if SURROGATE.search(value):
        raise InvalidInput(f"{field} contains unpaired surrogates", field=field)
    return value


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_SPACE_RUN = re.compile("[ \t\n\r\f\v]+")


def key(value: str) -> str:
    """The comparison key of a name or code: what the ledger compares, filters and refuses duplicates on.

    After the comparison of PRECIS's Nickname profile (RFC 8266): compatibility forms are unified (NFKC: CJK
    compatibility ideographs such as U+F900, full-width Latin, digits and brackets as Chinese input methods type
    them, the ideographic space), letters are case-folded, and white space is one space between words and none
    around them. NFKC runs again after the folding, so the key is itself normalised. Only ASCII letters are
    folded (the Latin letters of codes, and of names once NFKC has mapped the full-width ones), so that PostgreSQL
    computes the very same key in SQL (:data:`KEY_SQL`) whatever the database's locale.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).translate(_ASCII_LOWER))
    return _SPACE_RUN.sub(" ", folded).strip(" ")


# key() in PostgreSQL, for read models built by SQL from the log's rows; ``{}`` is the text. lower() under the "C"
# collation folds ASCII letters only, in any locale.
KEY_SQL = (
    'btrim(regexp_replace(normalize(lower(normalize({}, NFKC) COLLATE "C"), NFKC), '
    "'[ \\t\\n\\r\\f\\v]+', ' ', 'g'), ' ')"
)


def nfc(value: str) -> str:
    """How this ledger's versions before keys stored text (NFC): the identity an object was recorded under then."""
    return unicodedata.normalize("NFC", value)


def reason(value: object, field: str = "reason", *, required: bool = False) -> str:
    result = text(value, field, max_length=LONG_TEXT, required=False)
    if required and not result.strip():
        raise InvalidInput(f"{field} is required", code="reason-required", field=field)
    return result


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def evidence(values: Iterable[str] | None, field: str = "evidence") -> list[str]:
    """SHA-256 hex digests of attached documents, lower-case, no duplicates."""
    result: list[str] = []
    for item in values or ():
        if not isinstance(item, str) or not _SHA256_HEX.fullmatch(item.lower()):
            raise InvalidInput(f"{field} must hold SHA-256 hex digests: {item!r}", code="invalid-evidence", field=field)
        if item.lower() not in result:
            result.append(item.lower())
    if len(result) > 100:
        raise InvalidInput(f"{field} holds more than 100 documents", code="invalid-evidence", field=field)
    return result


def documents(items: Iterable[object] | None, field: str = "evidence") -> tuple[list[str], list[Document]]:
    """Evidence as given: each item a SHA-256 digest (untyped) or a document — a :class:`Document`, or a mapping with
    ``digest``, ``type`` (of :class:`DocumentType`) and optionally ``name``. Returns every digest (lower-case, no
    duplicates: :func:`evidence`) and the typed documents (a digest given twice keeps its first type)."""
    digests: list[str] = []
    typed: list[Document] = []
    for i, item in enumerate(items or ()):
        if isinstance(item, str):
            digests.append(item)
            continue
        if isinstance(item, Document):
            given: Any = {"digest": item.digest, "type": item.type, "name": item.name}
        elif isinstance(item, Mapping):
            given = item
        else:
            raise InvalidInput(f"{field}[{i}] must be a digest or a document", code="invalid-evidence", field=field)
        unknown = set(given) - {"digest", "type", "name"}
        if unknown:
            raise InvalidInput(
                f"{field}[{i}] has unknown keys: {sorted(unknown)}", code="invalid-evidence", field=field
            )
        (digest,) = evidence([given.get("digest")], f"{field}[{i}].digest")
        kind = enum_value(DocumentType, given.get("type"), f"{field}[{i}].type")
        name = given.get("name")
        if name is not None:
            name = text(name, f"{field}[{i}].name")
        digests.append(digest)
        if all(document.digest != digest for document in typed):
            typed.append(Document(digest, kind.value, name))
    return evidence(digests, field), typed


def enum_value(enum: type[E], value: object, field: str) -> E:
    try:
        return enum(value)  # type: ignore[arg-type]  # any non-member raises ValueError below
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidInput(f"{field} must be one of {allowed}: {value!r}", field=field) from None


FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR = 2000, 2100  # the fiscal years the ledger takes


def fiscal_year(value: object, field: str = "fiscal_year") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not FIRST_FISCAL_YEAR <= value <= LAST_FISCAL_YEAR:
        raise InvalidInput(f"{field} must be a year between {FIRST_FISCAL_YEAR} and {LAST_FISCAL_YEAR}", field=field)
    return value


SYSTEM = Principal(id="scheduler", role=Role.SYSTEM, organisation="system")
