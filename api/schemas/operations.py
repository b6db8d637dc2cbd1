"""Health, readiness and the catalogue of problem types."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    log_size: int
    projections_position: int
    lag_seconds: float = Field(
        description="How long ago the oldest event the read models have not applied was "
        "recorded (0: they have applied the whole log)"
    )
    roles: dict[str, str] = Field(
        default_factory=dict,
        description="Each long-running role this process runs (read-models, scheduler, …) and its state: up",
    )


class ProblemType(BaseModel):
    type: str
    code: str
    status: int
    title: str
    title_zh: str
