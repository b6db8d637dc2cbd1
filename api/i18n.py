"""The language of what a request is told about its own input: field errors in Chinese, in English, or both.

``Accept-Language`` chooses (RFC 9110 §12.5.4, with quality values): a Chinese range (``zh``, ``zh-CN``,
``zh-Hans``…) gives Chinese, an English one English, whichever the client ranks higher. Without the header, or with
neither language in it, the answer follows the product's convention — Chinese first, English beside it in brackets —
as a problem's ``title_zh`` stands beside its ``title``. The response says which in ``Content-Language``.

Each field error keeps pydantic's ``type`` as its ``code`` (``string_too_long``, ``missing``…): stable, for clients
that word errors themselves. A validator of ours names its own Chinese wording with :func:`field_error`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic_core import PydanticCustomError


class Language(StrEnum):
    ZH = "zh-CN"
    EN = "en"
    BOTH = "zh-CN, en"  # no preference: Chinese first, English beside


_RANGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([01](?:\.\d{0,3})?))?\s*$")
MAX_RANGES = 32  # a longer header is read as far as this: the choice never costs more


def negotiate(header: str | None) -> Language:
    """The language an ``Accept-Language`` header asks for (:class:`Language`); malformed ranges are skipped."""
    if not header:
        return Language.BOTH
    best: tuple[float, int, Language] | None = None
    for order, item in enumerate(header.split(",")[:MAX_RANGES]):
        found = _RANGE.match(item)
        if found is None:
            continue
        tag, quality = found.group(1).lower(), float(found.group(2) or 1)
        primary = tag.split("-", 1)[0]
        language = {"zh": Language.ZH, "en": Language.EN}.get(primary)
        if language is None or quality <= 0:
            continue
        if best is None or (quality, -order) > (best[0], best[1]):
            best = (quality, -order, language)
    return Language.BOTH if best is None else best[2]


# pydantic's error types → the Chinese for them; {name} is filled from the error's context.
CHINESE: dict[str, str] = {
    "missing": "缺少必填项",
    "extra_forbidden": "不接受此字段",
    "string_type": "应为字符串",
    "string_unicode": "应为有效的Unicode字符串",
    "string_too_short": "至少应有{min_length}个字符",
    "string_too_long": "最多{max_length}个字符",
    "string_pattern_mismatch": "格式不符合要求（{pattern}）",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_parsing_size": "整数超出范围",
    "int_from_float": "应为整数，不能有小数部分",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限的数值",
    "decimal_type": "应为数字（十进制数）",
    "decimal_parsing": "应为数字（十进制数）",
    "decimal_max_digits": "总位数不能超过{max_digits}位",
    "decimal_max_places": "小数不能超过{decimal_places}位",
    "decimal_whole_digits": "整数部分不能超过{whole_digits}位",
    "greater_than": "应大于{gt}",
    "greater_than_equal": "应大于或等于{ge}",
    "less_than": "应小于{lt}",
    "less_than_equal": "应小于或等于{le}",
    "multiple_of": "应为{multiple_of}的倍数",
    "bool_type": "应为布尔值（true或false）",
    "bool_parsing": "应为布尔值（true或false）",
    "list_type": "应为数组",
    "tuple_type": "应为数组",
    "set_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "too_short": "至少应有{min_length}项",
    "too_long": "最多{max_length}项",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD），不含时刻",
    "date_past": "应为过去的日期",
    "date_future": "应为将来的日期",
    "datetime_type": "应为日期时间（ISO 8601，如2021-03-01T09:00:00+08:00）",
    "datetime_parsing": "应为日期时间（ISO 8601，如2021-03-01T09:00:00+08:00）",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601，如2021-03-01T09:00:00+08:00）",
    "datetime_object_invalid": "应为有效的日期时间",
    "timezone_aware": "应带时区（如+08:00）",
    "timezone_naive": "不应带时区",
    "time_type": "应为时刻（HH:MM:SS）",
    "time_parsing": "应为时刻（HH:MM:SS）",
    "uuid_type": "应为编号（UUID）",
    "uuid_parsing": "应为编号（UUID，如8c4c6f1e-3e9a-5b6e-9b9a-1d7a7b2b3c4d）",
    "uuid_version": "编号（UUID）版本不符",
    "enum": "应为以下之一：{expected}",
    "literal_error": "应为以下之一：{expected}",
    "json_invalid": "不是有效的JSON",
    "json_type": "应为JSON字符串",
    "url_type": "应为网址",
    "url_parsing": "应为有效的网址",
    "url_syntax_violation": "应为有效的网址",
    "url_too_long": "网址过长",
    "url_scheme": "网址协议不符：应为{expected_schemes}",
    "none_required": "应为null",
    "union_tag_invalid": "类型标记无效：应为{expected_tags}",
    "union_tag_not_found": "缺少类型标记{discriminator}",
    "value_error": "取值无效",
    "assertion_error": "取值无效",
}


GENERAL = frozenset({"value_error", "assertion_error"})  # a validator's own refusal: its words say what


def field_error(code: str, english: str, chinese: str, **context: Any) -> PydanticCustomError:
    """A validator's refusal in both languages: raise it where a ``ValueError`` would say only the English."""
    return PydanticCustomError(code, english, {**context, "zh": chinese})


def chinese(issue: Mapping[str, Any]) -> str:
    """The Chinese for one of pydantic's (or FastAPI's) error dicts; a kind it does not know says so in general."""
    context = issue.get("ctx") or {}
    if isinstance(context.get("zh"), str):
        return str(context["zh"])
    template = CHINESE.get(str(issue.get("type", "")), "输入无效")
    try:
        return template.format(**context)
    except (KeyError, IndexError, ValueError):  # a context without what the template names: the general words
        return template.split("{", 1)[0].rstrip("：:（(") or "输入无效"


def message(issue: Mapping[str, Any], language: Language) -> str:
    """One field error in ``language``."""
    english = str(issue.get("msg", ""))
    if language is Language.EN:
        return english
    if language is Language.ZH:
        if issue.get("type") in GENERAL and not isinstance((issue.get("ctx") or {}).get("zh"), str):
            return f"{chinese(issue)}：{english}"  # the validator's own English is the only account of what was wrong
        return chinese(issue)
    return f"{chinese(issue)}（{english}）"
