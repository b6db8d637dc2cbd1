"""Typed settings, read from the environment (and ``.env``) by a factory, never at import time."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from psycopg.conninfo import conninfo_to_dict
from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from api.config.state import default_data_dir, env_files
from api.roles.destinations import allow_entry
from ledger.log.checkpoint import CheckpointError, VerifierKey
from ledger.log.witness import WitnessEndpoint, WitnessError, parse_endpoints


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIXIAO_", env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="An external PostgreSQL (>= 14). Unset: an embedded PostgreSQL runs in data_dir.",
    )
    read_database_url: str | None = Field(
        default=None,
        description="A PostgreSQL streaming replica of DATABASE_URL's server for the queries (read models, the "
        "feed): they read it, and `min_position` waits for it to replay the position. Commands, tokens, event "
        "streams and the background roles stay on the primary. Unset: queries read the primary.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Embedded PostgreSQL data, signing key, local state: an absolute path. Default: the checkout's "
        "var/ (run from a source checkout), else $XDG_DATA_HOME/jixiao; never the current folder.",
    )
    log_origin: str = Field(
        default="jixiao-ledger.localhost/log",
        description="The log's name in signed checkpoints (C2SP origin): a stable, unique name such as "
        "'czj.example.gov.cn/jixiao'. Fixed for the log's life: a log whose checkpoints name another is refused.",
    )
    signing_key: str | None = Field(
        default=None, description="The checkpoint signing key (PRIVATE+KEY+... string). Overrides the key file."
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="Where the signing key lives (default data_dir/signing.key). `jixiao key generate` writes it; "
        "the first `jixiao serve` or `demo` makes one only at the default path: a file named here must hold the key.",
    )
    create_schema: bool = Field(
        default=True,
        description="Create the schema on start. Set false when the service connects as a role that may only "
        "INSERT and SELECT (deploy/sql/service-role.sql); the owner then runs `jixiao db migrate`.",
    )
    witnesses: str = Field(
        default="",
        description="Witnesses asked to cosign every checkpoint (c2sp.org/tlog-witness): entries "
        "'<URL> <witness verifier key>' separated by ';' or newlines. A witness that is down delays only its own "
        "cosignature.",
    )
    witness_timeout: float = Field(default=5.0, gt=0, le=60, description="Seconds a witness has to answer.")
    verify_max_unsigned_age: float = Field(
        default=600.0,
        ge=0,
        description="`jixiao verify` fails when the first leaf no signed (or, with --witness, "
        "witnessed) checkpoint covers was recorded longer ago than this many seconds (0: no limit).",
    )
    verify_max_unsigned_leaves: int | None = Field(
        default=None,
        ge=0,
        description="`jixiao verify` fails when more leaves than this at the head are not covered "
        "by a signed (or witnessed) checkpoint (unset: no limit).",
    )
    token_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Earlier verifier keys (comma-separated) whose signatures on what the database keeps — token "
        "records, snapshots — are still honoured after the signing key was rotated (never a compromised key).",
    )
    checkpoint_interval: float = Field(
        default=60.0, ge=0, description="Seconds between signed checkpoints while the log grows (0: never)."
    )
    run_projections: bool = Field(
        default=True,
        description="Follow the log with the read models inside the service (false: run "
        "`jixiao worker` as its own process).",
    )
    projection_page: int = Field(
        default=10_000, ge=1, le=100_000, description="Events applied to the read models per transaction."
    )
    projection_interval: float = Field(
        default=0.05,
        ge=0,
        le=10,
        description="Seconds between the starts of two pages while the read models "
        "follow the log: under load, what is appended meanwhile is applied together (a bound on their lag).",
    )
    ready_max_lag: float = Field(
        default=30.0,
        gt=0,
        le=86_400,
        description="Seconds the read models this process runs may fall behind the "
        "log (the age of the oldest event they have not applied) before /readyz answers 503.",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="Where business dates are reckoned: the default "
        "effective_on of a command and the scheduler's 'today'.",
    )
    read_pool_size: int = Field(default=8, ge=1, le=200, description="Connections for queries (per process).")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="HTTP worker processes (uvicorn); each follows the log too, but only one applies a page at a time.",
    )
    shutdown_timeout: int = Field(
        default=5,
        ge=1,
        le=300,
        description="Seconds `jixiao serve`, asked to stop (SIGTERM, Ctrl-C), lets open requests finish before it "
        "cuts them (event streams end at once); keep it under the orchestrator's grace period.",
    )
    log_level: str = Field(
        default="info",
        pattern="^(critical|error|warning|info|debug)$",
        description="The log's level (info logs every request)",
    )
    log_format: str = Field(
        default="text",
        pattern="^(text|json)$",
        description="The log's format: text (a line for people) or json (one JSON object a line: time, level, "
        "logger, message, request_id, principal, and for a request method, path, status, duration_ms)",
    )
    otel: bool = Field(
        default=False,
        description="FastAPI's native OpenTelemetry: request spans, metrics and logs "
        "to the process's globally configured providers (off: not even looked for on each request; "
        "/metrics serves Prometheus either way).",
    )
    run_dispatcher: bool = Field(
        default=True,
        description="Deliver webhooks inside the service (false: run `jixiao dispatcher` as its own process).",
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=100, description="Failed attempts at one event before a subscription is dead-lettered."
    )
    webhook_backoff: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="Seconds before the first retry; doubling each time (with jitter), at most an hour.",
    )
    webhook_timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds a receiver has to answer.")
    webhook_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Webhook destinations allowed beside public addresses (comma-separated "
        "networks and host names, e.g. 10.1.2.3/32,hooks.intranet.example; .domain: every name under it).",
    )
    nats_url: str = Field(
        default="nats://127.0.0.1:4222", description="The NATS server(s) the relay publishes to (comma-separated)."
    )
    nats_stream: str = Field(
        default="JIXIAO", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The JetStream stream (created if missing)."
    )
    nats_subject_prefix: str = Field(
        default="jixiao.events",
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        description="Subjects are <prefix>.<Aggregate>.<Event>.",
    )
    sse_max_streams: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Server-Sent Events streams one process serves at once; beyond: 429 with Retry-After.",
    )
    sse_max_streams_per_principal: int = Field(
        default=20,
        ge=1,
        le=100_000,
        description="Streams one principal (without a token: one client address) may hold open in a process.",
    )
    host: str = Field(
        default="127.0.0.1", description="Where the HTTP service listens: an address of this machine (0.0.0.0: all)."
    )
    port: int = Field(default=8000, ge=1, le=65535, description="The HTTP service's TCP port.")
    holidays: Annotated[list[date], NoDecode] = Field(
        default_factory=list,
        description="Days off beyond the State Council's (local holidays; comma-separated ISO dates), added to a "
        "year's working calendar when the log first records the year; a year already recorded is amended by finance "
        "(POST /calendar/{year}/amendments), and a start whose setting disagrees with it only warns.",
    )
    working_weekends: Annotated[list[date], NoDecode] = Field(
        default_factory=list,
        description="Saturdays and Sundays worked beyond the State Council's (调休上班, comma-separated ISO dates), "
        "added like JIXIAO_HOLIDAYS when the log first records their year.",
    )
    run_scheduler: bool = Field(
        default=True,
        description="Stand for the scheduler's leadership inside the service (false: run `jixiao "
        "scheduler` as its own process, or nowhere).",
    )
    sweep_interval: float = Field(
        default=300.0,
        gt=0,
        description="Seconds between runs of each time-driven job (deadlines, deviations, "
        "suspension, overdue rectifications, blacklist expiry).",
    )
    scheduler_poll: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="Seconds between a follower's tries for the scheduler's leadership "
        "(and the leader's checks that it still holds it): a dead leader is replaced within about this long.",
    )

    progress_interval: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="Seconds between the progress lines of long commands (demo, verify, projections rebuild, "
        "export) when their output is not a terminal, as in a log (0: a line at every step); on a terminal a bar "
        "shows the rate and the time left.",
    )

    @field_validator("webhook_allow", mode="before")
    @classmethod
    def _split_destinations(cls, value: object) -> object:
        if isinstance(value, str):
            return [item for item in value.split(",") if item.strip()]
        return value

    @field_validator("webhook_allow")
    @classmethod
    def _destinations(cls, value: list[str]) -> list[str]:
        return [allow_entry(item) for item in value]

    @field_validator("holidays", "working_weekends", "token_keys", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("token_keys")
    @classmethod
    def _verifier_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            try:
                VerifierKey.from_string(key)
            except CheckpointError as error:
                raise ValueError(f"JIXIAO_TOKEN_KEYS: {error}") from None
        return value

    @field_validator("working_weekends")
    @classmethod
    def _weekends_only(cls, value: list[date], info: ValidationInfo) -> list[date]:
        weekdays = [day.isoformat() for day in value if day.weekday() < 5]
        if weekdays:
            raise ValueError(f"working weekend days must be Saturdays or Sundays: {', '.join(weekdays)}")
        both = sorted(day.isoformat() for day in set(value) & set(info.data.get("holidays", ())))
        if both:
            raise ValueError(f"days both in JIXIAO_HOLIDAYS and JIXIAO_WORKING_WEEKENDS: {', '.join(both)}")
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        value = value.expanduser()
        if not value.is_absolute():  # a relative folder would be another one in every directory a command runs in
            raise ValueError(
                f"JIXIAO_DATA_DIR must be an absolute path (数据目录须为绝对路径), not {str(value)!r}: a relative "
                "one would name a different folder in each directory a command is run from"
            )
        return value

    @field_validator("database_url", "read_database_url")
    @classmethod
    def _postgres_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        name = "DATABASE_URL" if info.field_name == "database_url" else "JIXIAO_READ_DATABASE_URL"
        if "://" in value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"{name} must be a postgresql:// URL: the ledger runs on PostgreSQL only")
        try:
            conninfo_to_dict(value)
        except psycopg.ProgrammingError as error:
            raise ValueError(f"{name} is not a PostgreSQL connection string: {error}") from None
        return value

    @field_validator("log_origin")
    @classmethod
    def _origin_is_one_line(cls, value: str) -> str:
        if not value.strip() or any(ch.isspace() for ch in value):
            raise ValueError("the log origin is one word without spaces, e.g. czj.example.gov.cn/jixiao")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Asia/Shanghai)") from None
        return value

    @field_validator("witnesses")
    @classmethod
    def _witnesses_parse(cls, value: str) -> str:
        try:
            parse_endpoints(value)
        except WitnessError as error:
            raise ValueError(f"JIXIAO_WITNESSES: {error}") from None
        return value

    @property
    def witness_endpoints(self) -> list[WitnessEndpoint]:
        return parse_endpoints(self.witnesses)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def key_file(self) -> Path:
        return self.signing_key_file or self.data_dir / "signing.key"


def load_settings(**overrides: Any) -> Settings:
    """The settings of this process: ``overrides`` (a command's options, by field name), over the environment, over
    the checkout's ``.env`` and the current folder's."""
    return Settings(_env_file=env_files(), **overrides)  # type: ignore[call-arg]
