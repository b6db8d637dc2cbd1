"""The ``jixiao`` command line (Click): the root group and its error handling, the demo, the database and tokens.

The service is :mod:`api.cli.service`, the integrity commands (key, checkpoint, verify, audit, witness, export)
:mod:`api.cli.integrity`, the long-running roles and their look-after commands :mod:`api.cli.roles`.

Exit status: 0 done; 1 a check found a failure (``verify``, ``audit``) or a listed step is still to be confirmed;
2 refused: a bad command line, a setting or input that does not hold, state that is missing, an address taken;
130 interrupted.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import click
from pydantic import ValidationError

from api.cli import integrity, keys, reads, roles, service
from api.cli.options import (
    CONTEXT,
    STATE,
    Group,
    ParseOnly,
    current_settings,
    describe_settings_error,
    json_option,
    print_json,
    settings_options,
)
from api.cli.progress import Progress
from api.config.database import database_url, display_url, open_ledger, stop_embedded_server
from api.config.keys import check_origin_at, open_log, signing_key
from api.config.settings import Settings
from api.config.state import StateMissing
from ledger.domain.errors import DomainError
from ledger.log.audit import BundleError
from ledger.log.checkpoint import CheckpointError
from ledger.log.witness import WitnessError
from ledger.store.tlog import BundleUnavailable
from ledger.store.tree import ProofUnavailable

if TYPE_CHECKING:
    from api.auth import TokenStore


def package_version() -> str:
    try:
        return version("jixiao-ledger")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"jixiao {package_version()}")
        ctx.exit()


@click.group(cls=Group, context_settings=CONTEXT)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="print the version of Jixiao Ledger and exit",
)
def cli() -> None:
    """Jixiao Ledger 绩效账本: an event-sourced, tamper-evident ledger of budget performance management.

    Settings come from the environment (JIXIAO_*, DATABASE_URL) or a .env file; a command's options override them
    for that command (each option's help names its variable and default). `jixiao COMMAND --help` for more.
    """


cli.add_command(service.serve)


# -------------------------------------------------------------------------------------------------------- the demo


@cli.command()
@settings_options(*STATE, "progress_interval")
def demo() -> int:
    """Load the demo: fiscal years 2021 and 2022 (idempotent).

    A county-level city's budget performance: 2021's whole cycle, and 2022's budgets shaped by 2021's results."""
    from api.cli.demo import format_summary, run_demo

    settings = current_settings()
    signing_key(settings, create=True)
    url = database_url(settings, create=True)
    check_origin_at(settings, url)
    ledger = open_ledger(settings, url)
    try:
        ledger.bootstrap()
        with Progress("演示数据 loading the demo", "steps", interval=settings.progress_interval) as progress:
            summary = run_demo(ledger, progress=progress.update)
        click.echo(format_summary(summary))
    finally:
        ledger.close()
    log = open_log(settings, url)
    try:  # what the demo recorded is covered by a signed checkpoint at once, as the scheduler would within a minute
        log.cosign(log.sign_checkpoint())
    finally:
        log.close()
    return 0


# ---------------------------------------------------------------------------------------------------- the database


@cli.group()
def db() -> None:
    """The database in use."""


@db.command("url")
@settings_options(*STATE)
def db_url() -> int:
    """Print the connection URL (for psql)."""
    click.echo(display_url(database_url(current_settings())))
    return 0


@db.command("stop")
@settings_options(*STATE)
def db_stop() -> int:
    """Stop the embedded PostgreSQL."""
    settings = current_settings()
    if settings.database_url:
        click.echo("DATABASE_URL is set: that server is not ours to stop.", err=True)
        return 1
    click.echo("stopped" if stop_embedded_server(settings.data_dir) else "not running")
    return 0


@db.command("migrate")
@settings_options(*STATE)
def db_migrate() -> int:
    """Create or upgrade the schema (as the database owner), then record ruleset version 1."""
    from api.config.migrations import migrate

    settings = current_settings()
    url = database_url(settings, create=True)
    migrate(url, settings)
    click.echo(f"schema ready in {display_url(url)}")
    return 0


@db.command("service-role")
@click.option("--role", required=True, help="its name, e.g. jixiao_app")
@click.option("--password", help="its password (or JIXIAO_SERVICE_PASSWORD); omitted: left as it is")
@click.option("--print", "print_sql", is_flag=True, help="print the SQL instead of running it")
@settings_options(*STATE)
def db_service_role(role: str, password: str | None, print_sql: bool) -> int:
    """Create or update the role the services run as (as the owner): append to the log and read it, nothing more."""
    from api.config.migrations import grant_service_role, service_role_sql

    url = database_url(current_settings())
    if print_sql:
        click.echo(service_role_sql(role, url), nl=False)
        return 0
    grant_service_role(url, role, password or os.environ.get("JIXIAO_SERVICE_PASSWORD"))
    click.echo(f"role {role} may append to and read the ledger in {display_url(url)}")
    return 0


# ------------------------------------------------------------------------------------------------------------ tokens


@contextmanager
def _token_store(settings: Settings) -> Iterator[TokenStore]:
    from psycopg_pool import ConnectionPool

    from api.auth import TokenStore, keys_for

    with ConnectionPool(
        database_url(settings), min_size=1, max_size=1, kwargs={"autocommit": True}, name="jixiao-cli"
    ) as pool:
        store = TokenStore(pool, keys_for(settings))
        if settings.create_schema:
            store.create_table()
        yield store


@cli.group()
def token() -> None:
    """Bearer tokens for principals.

    Only their SHA-256 is stored, in a record signed by the log's key."""


@token.command("create")
@click.option("--role", required=True, help="finance, department, agency, auditor or admin")
@click.option(
    "--org", default="", help="the organisation it acts for (a department's exact name; a unit's staff: --unit)"
)
@click.option(
    "--unit",
    help="a budget unit's staff (预算单位, with --role department): the unit's exact name, instead of --org; they act "
    "for the unit's projects only",
)
@click.option("--name", required=True, help="the principal's id, recorded on every event it causes")
@click.option("--by", default="cli", show_default=True, help="who issued it (recorded)")
@settings_options(*STATE)
def token_create(role: str, org: str, unit: str | None, name: str, by: str) -> int:
    """Issue a token and print it (once)."""
    if unit is not None and (org or role != "department"):
        raise click.UsageError("--unit names a budget unit's staff: with --role department, instead of --org")
    organisation = org if unit is None else unit  # a unit's staff act for the unit by its name
    with _token_store(current_settings()) as store:
        issued, record = store.issue(name, role, organisation, created_by=by)
    click.echo(issued)
    click.echo(
        f"{record.token_id}: {record.name} ({record.role}, {record.organisation or '-'}) — shown once, keep it secret",
        err=True,
    )
    return 0


@token.command("list")
@json_option
@settings_options(*STATE)
def token_list(as_json: bool) -> int:
    """Every token issued, live or revoked, and any the service refuses (and why)."""
    with _token_store(current_settings()) as store:
        records = store.list()
    if as_json:
        print_json(
            {
                "tokens": [
                    {
                        "token_id": item.token_id,
                        "name": item.name,
                        "role": item.role,
                        "organisation": item.organisation,
                        "created_at": item.created_at,
                        "created_by": item.created_by,
                        "revoked_at": item.revoked_at,
                        "live": item.revoked_at is None and item.refused is None,
                        "refused": item.refused,
                    }
                    for item in records
                ]
            }
        )
        return 0
    for item in records:
        state = f"revoked {item.revoked_at:%Y-%m-%d %H:%M}" if item.revoked_at else "live"
        refused = f"  REFUSED: {item.refused}" if item.refused else ""
        click.echo(f"{item.token_id}  {item.role:<10} {item.name:<24} {item.organisation:<20} {state}{refused}")
    return 0


@token.command("revoke")
@click.argument("token_id")
@click.option("--by", default="cli", show_default=True, help="who revoked it (recorded)")
@settings_options(*STATE)
def token_revoke(token_id: str, by: str) -> int:
    """Revoke a token by its id (tok_…): refused everywhere once this returns."""
    with _token_store(current_settings()) as store:
        revoked = store.revoke(token_id, revoked_by=by)
    if revoked is None:
        click.echo(f"no token {token_id}", err=True)
        return 1
    click.echo(
        f"revoked {revoked.record.token_id} ({revoked.record.name})"
        + (f"; {len(revoked.subscriptions)} webhook subscriptions disabled" if revoked.subscriptions else "")
    )
    if revoked.unconfirmed or revoked.busy:
        click.echo(
            f"warning: {revoked.unconfirmed} service processes did not confirm and {len(revoked.busy)} "
            "subscriptions were still being delivered; they stop within seconds",
            err=True,
        )
    return 0


@token.command("resign")
@click.option("--yes", is_flag=True, help="sign them (without it: only list them)")
@settings_options(*STATE)
def token_resign(yes: bool) -> int:
    """Once, after upgrading: sign the token records of earlier versions (as the schema owner, with the signing
    key)."""
    import psycopg

    with _token_store(current_settings()) as store:
        try:
            records = store.resign(confirm=yes)
        except psycopg.errors.InsufficientPrivilege as error:
            click.echo(f"error: {error}; run it as the schema owner", err=True)
            return 2
        signer = store.keys.signer
    for item in records:
        click.echo(
            f"{item.token_id}  {item.role:<10} {item.name:<24} {item.organisation:<20} "
            f"created {item.created_at:%Y-%m-%d %H:%M} by {item.created_by}"
        )
    if not records:
        click.echo("no unsigned token records")
    elif yes:
        click.echo(f"signed {len(records)} token records with {signer.verifier.key_id.hex()}" if signer else "")
    else:
        click.echo(
            f"{len(records)} unsigned token records from before the upgrade (above); check each is one you issued, "
            "then run again with --yes to sign them",
            err=True,
        )
        return 1
    return 0


# ----------------------------------------------------------------------------------------- the rest, and running it

for command in (
    integrity.key,
    integrity.checkpoint,
    integrity.verify,
    integrity.audit_command,
    integrity.witness,
    integrity.export,
    roles.worker,
    roles.dispatcher,
    roles.relay,
    roles.projections,
    roles.scheduler,
    roles.jobs,
    reads.read,
):
    cli.add_command(command)
integrity.key.add_command(keys.generate)
integrity.key.add_command(keys.rotate)

ERRORS = (
    BundleError,
    BundleUnavailable,
    CheckpointError,
    WitnessError,
    ProofUnavailable,
    OSError,
    ValueError,
    KeyError,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``jixiao`` with ``argv`` (default: this process's arguments); the exit status (see the module's doc)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        result: Any = cli.main(
            args=list(sys.argv[1:] if argv is None else argv), prog_name="jixiao", standalone_mode=False
        )
    except click.ClickException as error:  # a bad command line or a bad value: says what was expected
        error.show()
        return error.exit_code
    except click.Abort:  # Ctrl-C (Click turns KeyboardInterrupt into Abort)
        click.echo("interrupted", err=True)
        return 130
    except DomainError as error:
        click.echo(f"refused ({error.code}): {error.detail}", err=True)
        return 2
    except (StateMissing, service.CannotListen) as error:  # say what is missing and what to do, in both languages
        click.echo(str(error), err=True)
        return 2
    except ValidationError as error:  # a setting (from the environment, .env or an option) that does not hold
        click.echo(describe_settings_error(error), err=True)
        return 2
    except ERRORS as error:
        click.echo(f"error: {error}", err=True)
        return 2
    return int(result or 0)


def parse_only(words: Sequence[str]) -> None:
    """Check a ``jixiao`` command line without running it: a :class:`click.UsageError` (or another
    :class:`click.ClickException`) if no command takes it as written."""
    cli.main(args=list(words), prog_name="jixiao", standalone_mode=False, obj=ParseOnly())


if __name__ == "__main__":
    sys.exit(main())
