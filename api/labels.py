"""Chinese labels beside codes in every answer: ``"stage": "closed", "stage_zh": "已关闭"``.

A response model marks a field that holds a code with the vocabulary it comes from — ``stage: Coded("stage")`` —
or types it with an enum of the domain (``level1: Level1``). :class:`Labelled` (the base of such models) then
answers each with ``<field>_zh`` right after it: the label, a list of labels for a list of codes, ``null`` for
``null``, and the code itself for a code the vocabulary does not know (an answer never fails on a label). The codes
are unchanged: integrators keep branching on them; the ``_zh`` fields are for people, as a problem's ``title_zh``
and a trail entry's ``event_type_zh`` already were. The OpenAPI document lists each ``_zh`` field (read-only).

The vocabularies are the domain's (:mod:`ledger.domain.labels`) and a few of the edge's own: event types (the
accountability trail's names), webhook subscriptions' states, the overall goals' dimensions, and problem types.
``GET /labels`` answers them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar, get_args, get_origin

from pydantic import BaseModel, GetJsonSchemaHandler, SerializerFunctionWrapHandler, model_serializer
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from api.problems import problem_codes
from ledger.domain.labels import ENUMS, LABELS
from projections.trail import EVENT_NAMES_ZH

SUFFIX = "_zh"

EDGE_LABELS: dict[str, dict[str, str]] = {
    "event_type": EVENT_NAMES_ZH,
    "subscription_status": {
        "active": "正常",
        "dead": "投递屡次失败已停止（修复接收方后重新启用）",
        "disabled": "已停用",
    },
    "dimension": {
        "running_cost": "运行成本",
        "management_efficiency": "管理效率",
        "duty_performance": "履职效能",
        "social_effect": "社会效应",
        "sustainability": "可持续发展能力",
        "satisfaction": "服务对象满意度",
    },
    "problem": {code: title_zh for code, (_, _, title_zh) in problem_codes().items()},
}
VOCABULARIES: dict[str, dict[str, str]] = {**LABELS, **EDGE_LABELS}
VOCABULARY_OF_ENUM: dict[type[StrEnum], str] = {enum: name for name, enum in ENUMS.items()}


@dataclass(frozen=True)
class Vocabulary:
    """Field metadata: the field holds codes of this vocabulary (see :data:`VOCABULARIES`)."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in VOCABULARIES:
            raise KeyError(f"no vocabulary {self.name!r} (there are: {', '.join(sorted(VOCABULARIES))})")


def Coded(vocabulary: str) -> Vocabulary:
    """``stage: Annotated[str, Coded("stage")]``: the field's codes come from ``vocabulary``."""
    return Vocabulary(vocabulary)


def label(vocabulary: str, code: Any) -> Any:
    """The label of ``code`` (of each code, for a list); ``None`` stays ``None``; an unknown code is its own label."""
    if code is None:
        return None
    if isinstance(code, list | tuple):
        return [label(vocabulary, item) for item in code]
    text = str(code.value if isinstance(code, StrEnum) else code)
    return VOCABULARIES[vocabulary].get(text, text)


def labelled(data: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """``data`` with ``<field>_zh`` after each of ``fields`` it holds (field -> vocabulary): for answers that are
    plain dicts rather than models."""
    result: dict[str, Any] = {}
    for name, value in data.items():
        result[name] = value
        if name in fields:
            result[name + SUFFIX] = label(fields[name], value)
    return result


def _vocabulary_of(annotation: Any, metadata: list[Any]) -> str | None:
    for item in metadata:
        if isinstance(item, Vocabulary):
            return item.name
    candidates = [annotation, *get_args(annotation)]
    if get_origin(annotation) is Annotated:
        return _vocabulary_of(get_args(annotation)[0], list(get_args(annotation)[1:]))
    for candidate in candidates:
        if isinstance(candidate, type) and candidate in VOCABULARY_OF_ENUM:
            return VOCABULARY_OF_ENUM[candidate]
    return None


class Labelled(BaseModel):
    """A response model whose coded fields are answered with their Chinese labels beside them (module docstring)."""

    __coded__: ClassVar[dict[str, str]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.__coded__ = {
            name: vocabulary
            for name, field in cls.model_fields.items()
            if (vocabulary := _vocabulary_of(field.annotation, list(field.metadata))) is not None
        }

    # No return annotation, on purpose: pydantic would take it for the schema of the answer (an untyped object in
    # the OpenAPI document) instead of the model's own, to which __get_pydantic_json_schema__ adds the labels.
    @model_serializer(mode="wrap")
    def _with_labels(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = handler(self)
        coded = type(self).__coded__
        if not coded or not isinstance(data, dict):
            return data
        return labelled(data, coded)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        document = handler(schema)
        if handler.mode != "serialization" or not cls.__coded__:
            return document
        target = handler.resolve_ref_schema(document)
        properties: dict[str, Any] = target.get("properties", {})
        required: list[str] = target.get("required", [])
        described: dict[str, Any] = {}
        for name, value in properties.items():
            described[name] = value
            vocabulary = cls.__coded__.get(name)
            if vocabulary is None:
                continue
            many = value.get("type") == "array" or any(item.get("type") == "array" for item in value.get("anyOf", []))
            text: dict[str, Any] = {"type": "array", "items": {"type": "string"}} if many else {"type": "string"}
            nullable = any(item.get("type") == "null" for item in value.get("anyOf", []))
            described[name + SUFFIX] = {
                **({"anyOf": [text, {"type": "null"}]} if nullable else text),
                "title": f"{value.get('title', name)} (中文)",
                "description": f"The Chinese label of {name} (vocabulary {vocabulary}; GET /labels lists them)",
                "readOnly": True,
            }
            if name in required:
                required.append(name + SUFFIX)
        target["properties"] = described
        return document
