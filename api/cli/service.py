"""``jixiao serve``: the HTTP service. Its address is taken first, before anything is set up or announced: a port
another program holds fails at once, with what to do, and the banner names only an address this process holds."""

from __future__ import annotations

import errno
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from api.cli.options import SETTINGS, STATE, Command, current_settings, env_var, setting_option, settings_options
from api.config.database import database_url, display_url
from api.config.keys import check_origin_at, signing_key
from api.logs import logging_config

WORKER_HEALTHCHECK = 30  # seconds an API worker process may take to answer uvicorn's health check
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104 - hosts that mean every address


class CannotListen(Exception):
    """The service cannot listen where its settings say. The message is a person's: Chinese first, English beside,
    and what to do."""


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn decides it


@contextmanager
def reserved(host: str, port: int) -> Iterator[socket.socket]:
    """Listen on ``host:port`` as uvicorn will (SO_REUSEADDR), holding the address while the service is set up; let
    it go at the end of the block, just before uvicorn binds it. Raises :class:`CannotListen`."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        sock.bind((host, port))
        sock.listen(1)
    except OSError as error:
        sock.close()
        raise _cannot_listen(error, where, port) from None
    try:
        yield sock
    finally:
        sock.close()


def _cannot_listen(error: OSError, where: str, port: int) -> CannotListen:
    change = "--host / --port (JIXIAO_HOST / JIXIAO_PORT)"
    if error.errno == errno.EADDRINUSE:
        return CannotListen(
            f"端口已被占用：{where} 已有其他程序在监听。请停止该程序，或用 --port（JIXIAO_PORT）换一个端口。\n"
            f"cannot listen on {where}: the address is already in use by another program. Stop it, or choose "
            f"another port with --port (JIXIAO_PORT). Nothing was started."
        )
    if error.errno == errno.EACCES:
        return CannotListen(
            f"无权监听 {where}：1024 以下的端口需要特权。请换一个端口（--port / JIXIAO_PORT）。\n"
            f"cannot listen on {where}: permission denied (ports below 1024 need privileges); choose another with "
            f"--port (JIXIAO_PORT). Nothing was started."
        )
    if error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror):
        return CannotListen(
            f"无法监听 {where}：本机没有这个地址（{error.strerror or error}）。请用 --host（JIXIAO_HOST）指定本机地址，"
            f"如 127.0.0.1 或 0.0.0.0。\ncannot listen on {where}: this machine has no such address "
            f"({error.strerror or error}); give one of its own with --host (JIXIAO_HOST), e.g. 127.0.0.1, or 0.0.0.0 "
            "for all. Nothing was started."
        )
    return CannotListen(f"无法监听 {where}：{error}。\ncannot listen on {where}: {error}; see {change}.")


def base_url(host: str, port: int) -> str:
    """The address to open in a browser: a wildcard host is reached through loopback."""
    shown = WILDCARDS.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def _export_overrides() -> None:
    """Worker processes build their app from the environment: what the command line set goes there too."""
    given = click.get_current_context().meta.get(SETTINGS, {})
    for name, value in given.items():
        os.environ[env_var(name)] = str(value).lower() if isinstance(value, bool) else str(value)


@click.command(cls=Command)
@setting_option("host")
@setting_option("port", type=click.IntRange(1, 65535), metavar="PORT")
@setting_option("workers", type=click.IntRange(1, 64), metavar="N")
@setting_option("log_level", type=click.Choice(LOG_LEVELS))
@setting_option("shutdown_timeout", metavar="SECONDS")
@settings_options(
    *STATE,
    "log_origin",
    "run_projections",
    "run_scheduler",
    "run_dispatcher",
    "checkpoint_interval",
)
def serve() -> int:
    """Run the HTTP service.

    OpenAPI docs at /docs; /healthz and /readyz for probes. Each option overrides its setting for this run."""
    import uvicorn

    from api.app import create_app

    settings = current_settings()
    with reserved(settings.host, settings.port):
        # The key first (a missing key file the settings name stops it before anything is made), then the embedded
        # database; only then announce, while the address is still held.
        key = signing_key(settings, create=True)
        url = database_url(settings, create=True)
        check_origin_at(settings, url)  # a log is never reopened under another name
        base = base_url(settings.host, settings.port)
        everywhere = (
            f" (listening on {settings.host!r}: every address of this machine)" if settings.host in WILDCARDS else ""
        )
        click.echo(f"Jixiao Ledger on {base}{everywhere}  —  OpenAPI docs: {base}/docs")
        click.echo(f"Database: {display_url(url)}")
        click.echo(f"Checkpoints signed by: {key.verifier.to_string()}")
        signal.signal(signal.SIGTERM, _stopped)
        app = None if settings.workers > 1 else create_app(settings)
        _export_overrides()
    # uvicorn logs through the service's configuration (JIXIAO_LOG_FORMAT), in every worker process; each request's
    # line is the service's own (api.logs.RequestLog), with its id, principal and duration, not uvicorn's.
    log_config = logging_config(settings.log_format, settings.log_level)
    if app is None:  # each worker process builds its own app from the same environment
        # A worker answers uvicorn's health check only once it has imported the app: on a busy machine that took
        # longer than uvicorn's 5 s, and each worker was killed and started again, for ever.
        uvicorn.run(
            "api.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
            log_config=log_config,
            access_log=False,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK,
            timeout_graceful_shutdown=settings.shutdown_timeout,
        )
    else:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            log_config=log_config,
            access_log=False,
            timeout_graceful_shutdown=settings.shutdown_timeout,
        )
    return 0


def _stopped(signum: int, frame: FrameType | None) -> None:
    """SIGTERM is how systemd and Kubernetes ask a service to stop. uvicorn handles it while it serves, stops, then
    raises it again for the handler it found: this one, so that an asked-for stop ends with status 0, as Ctrl-C does
    (the default action would kill the process: 143)."""
    raise SystemExit(0)
