"""Health, readiness and the catalogue of problem types."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str


class ReplicaReadiness(BaseModel):
    """Where the read replica queries read stands against the primary (JIXIAO_READ_DATABASE_URL)."""

    in_recovery: bool = Field(description="The read database is a standby (pg_is_in_recovery())")
    log_size: int = Field(description="Events the replica has replayed")
    behind: int = Field(description="Events the primary has recorded that the replica has not replayed yet")
    lag_seconds: float = Field(
        description="How long ago the oldest event the replica has not replayed was recorded on the primary "
        "(0: it has them all); held to JIXIAO_READY_MAX_LAG"
    )
    last_replay_seconds: float | None = Field(
        description="Seconds since the last transaction the replica replayed was committed on the primary "
        "(pg_last_xact_replay_timestamp(); it grows while the primary is idle: lag_seconds is the one to watch)"
    )


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
    replica: ReplicaReadiness | None = Field(
        default=None, description="The read replica queries read, when there is one (JIXIAO_READ_DATABASE_URL)"
    )


class ProblemType(BaseModel):
    type: str
    code: str
    status: int
    title: str
    title_zh: str
