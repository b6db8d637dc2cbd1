"""Domain errors, each with a stable code.

The code is the contract: the API turns it into an RFC 9457 problem ``type``,
the command line prints it, and clients branch on it. Titles are given in
English and Chinese because the people who read them work in both.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from importlib import resources
from typing import ClassVar, Final


class ErrorKind(StrEnum):
    """How a refusal should be understood by an edge (HTTP status, exit code)."""

    INVALID = "invalid"  # the input itself is malformed or out of range
    NOT_FOUND = "not-found"
    FORBIDDEN = "forbidden"  # this principal may not do this
    RULE = "rule"  # well-formed, allowed, but the rules of the cycle refuse it
    CONFLICT = "conflict"  # lost a race or stale version


def _catalogue() -> dict[str, tuple[ErrorKind, str, str]]:
    """Every code with its kind and titles, from ``errors.toml`` beside this module (one line a code)."""
    table = tomllib.loads(resources.files(__package__ or "ledger.domain").joinpath("errors.toml").read_text("utf-8"))
    return {code: (ErrorKind(kind), en, zh) for kind, codes in table.items() for code, (en, zh) in codes.items()}


CATALOGUE: Final[dict[str, tuple[ErrorKind, str, str]]] = _catalogue()
"""code -> (kind, English title, Chinese title)."""


class DomainError(Exception):
    """A refusal by the ledger. Nothing was recorded."""

    code: ClassVar[str] = "invalid-value"

    def __init__(self, detail: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(detail)
        if code is not None:
            if code not in CATALOGUE:
                raise KeyError(f"unknown error code {code!r}")
            self.code = code  # type: ignore[misc]
        self.detail = detail
        self.field = field

    @property
    def kind(self) -> ErrorKind:
        return CATALOGUE[self.code][0]

    @property
    def title(self) -> str:
        return CATALOGUE[self.code][1]

    @property
    def title_zh(self) -> str:
        return CATALOGUE[self.code][2]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.detail!r}, field={self.field!r})"


class InvalidInput(DomainError):
    code = "invalid-value"


class NotFound(DomainError):
    code = "project-not-found"


class Forbidden(DomainError):
    code = "role-not-allowed"


class RuleViolation(DomainError):
    code = "wrong-stage"


class VersionConflict(DomainError):
    code = "version-conflict"
