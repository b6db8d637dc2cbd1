"""Which language a request is answered in, and the Chinese for each kind of field error (no database)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from api.i18n import CHINESE, Language, field_error, message, negotiate


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, Language.BOTH),
        ("", Language.BOTH),
        ("*", Language.BOTH),
        ("fr-FR, de", Language.BOTH),
        ("zh-CN", Language.ZH),
        ("zh", Language.ZH),
        ("zh-Hans-CN;q=0.9", Language.ZH),
        ("ZH-cn", Language.ZH),
        ("en", Language.EN),
        ("en-US,en;q=0.9", Language.EN),
        ("zh-CN;q=0.5, en;q=0.8", Language.EN),
        ("en;q=0.5, zh-CN;q=0.8", Language.ZH),
        ("zh-CN, en", Language.ZH),  # equal quality: the first named
        ("en, zh-CN", Language.EN),
        ("en;q=0, zh", Language.ZH),  # q=0: not acceptable
        ("garbage;;, en;q=abc, zh-TW", Language.ZH),  # malformed ranges are skipped
        ("x" * 10_000, Language.BOTH),
        (",".join(["fr"] * 100) + ",en", Language.BOTH),  # read only so far
    ],
)
def test_accept_language_chooses_chinese_english_or_both(header: str | None, language: Language) -> None:
    assert negotiate(header) is language


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=3)]
    year: Annotated[int, Field(ge=2000, le=2100)]
    amount: Annotated[Decimal, Field(decimal_places=2)]
    project_id: UUID
    tags: Annotated[list[str], Field(max_length=1)] = []

    @model_validator(mode="after")
    def _named(self) -> Sample:
        if self.name == "bad":
            raise field_error("sample_named", "not that name", "不能用这个名称")
        return self


def issues(**data: object) -> dict[str, dict[str, object]]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(data)
    return {".".join(map(str, issue["loc"])) or issue["type"]: dict(issue) for issue in caught.value.errors()}


def test_each_field_error_is_said_in_chinese_in_english_or_in_both() -> None:
    found = issues(name="abcd", year=1999, amount="1.234", project_id="NY-01", tags=["a", "b"], extra=1)
    assert message(found["name"], Language.ZH) == "最多3个字符"
    assert message(found["year"], Language.ZH) == "应大于或等于2000"
    assert message(found["amount"], Language.ZH) == "小数不能超过2位"
    assert message(found["project_id"], Language.ZH).startswith("应为编号（UUID")
    assert message(found["tags"], Language.ZH) == "最多1项"
    assert message(found["extra"], Language.ZH) == "不接受此字段"
    assert message(found["name"], Language.EN) == "String should have at most 3 characters"
    assert message(found["name"], Language.BOTH) == "最多3个字符（String should have at most 3 characters）"
    missing = issues()
    assert message(missing["year"], Language.ZH) == "缺少必填项"
    assert message(missing["year"], Language.EN) == "Field required"


def test_a_validator_of_ours_says_its_own_chinese_and_a_foreign_one_keeps_its_english() -> None:
    named = issues(name="bad", year=2021, amount="1", project_id="8c4c6f1e-3e9a-5b6e-9b9a-1d7a7b2b3c4d")
    (issue,) = named.values()
    assert issue["type"] == "sample_named"
    assert message(issue, Language.ZH) == "不能用这个名称"
    assert message(issue, Language.EN) == "not that name"
    foreign = {"type": "value_error", "msg": "Value error, odd", "loc": ("body", "x")}
    assert message(foreign, Language.ZH) == "取值无效：Value error, odd"
    unknown = {"type": "something_new", "msg": "Something new", "ctx": {}}
    assert message(unknown, Language.ZH) == "输入无效"
    unfillable = {"type": "string_too_long", "msg": "too long", "ctx": {}}  # its context lacks max_length
    assert message(unfillable, Language.ZH) == "最多"


def test_the_error_kinds_the_service_meets_all_have_chinese() -> None:
    for kind in (
        "missing", "extra_forbidden", "string_type", "string_too_short", "string_too_long", "string_pattern_mismatch",
        "int_parsing", "int_type", "decimal_parsing", "decimal_max_places", "greater_than", "greater_than_equal",
        "less_than_equal", "too_short", "too_long", "bool_parsing", "date_from_datetime_parsing",
        "datetime_from_date_parsing", "timezone_aware", "uuid_parsing", "uuid_type", "enum", "literal_error",
        "list_type", "dict_type", "model_attributes_type", "json_invalid", "url_parsing",
    ):  # fmt: skip
        assert kind in CHINESE, kind
        assert re.search("[\u4e00-\u9fff]", CHINESE[kind]), kind
