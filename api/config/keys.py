"""Wiring of the transparency log: the signing key, the origin, the log object."""

from __future__ import annotations

from pathlib import Path

from api.config.settings import Settings
from api.config.state import (
    describe_data_dir,
    key_file_exists,
    key_for_another_origin,
    missing_key,
    origin_changed,
)
from ledger.log.checkpoint import KeyNameMismatch, SigningKey, load_or_create_signing_key, write_signing_key
from ledger.store.checkpoints import CheckpointStore
from ledger.store.tlog import TransparencyLog


def key_name(origin: str) -> str:
    """The name a log's new signing keys carry for ``origin`` (in every signature line of its checkpoints): the origin
    itself, as C2SP tlog-checkpoint asks (golang.org/x/mod's notes accept '/' in names)."""
    return origin


def legacy_key_names(origin: str) -> tuple[str, ...]:
    """Names a key made for ``origin`` before keys were named as the origin carries ('/' as '-'): still read, so a
    log begun then keeps its key (``jixiao key rotate`` moves it to one named as the origin)."""
    legacy = origin.replace("/", "-")
    return (legacy,) if legacy != origin else ()


def signing_key(settings: Settings, *, create: bool = False) -> SigningKey:
    """The checkpoint signing key: from JIXIAO_SIGNING_KEY, else the key file.

    Only ``create`` — the commands that set a ledger up (``serve``, ``demo``) — makes the default file
    (data_dir/signing.key, mode 0600) when there is none. Every other command finds it or raises
    :class:`StateMissing`: a reader that made a key would print a key nobody signs with. A file
    JIXIAO_SIGNING_KEY_FILE names is never made: a missing one is a mount that failed or a typo, and a new key
    there would silently start a new log identity."""
    if settings.signing_key:
        return SigningKey.from_string(settings.signing_key.strip())  # a secret made from a file ends in a newline
    path = settings.key_file
    named = settings.signing_key_file is not None
    if not path.exists() and (named or not create):
        where = describe_data_dir(settings.data_dir, configured="data_dir" in settings.model_fields_set)
        raise missing_key(path, where, named=named)
    try:
        return load_or_create_signing_key(
            path, key_name(settings.log_origin), also=legacy_key_names(settings.log_origin)
        )
    except KeyNameMismatch as error:  # the file was made under another JIXIAO_LOG_ORIGIN
        raise key_for_another_origin(path, error.found, settings.log_origin, error.expected) from None


def generate_signing_key(settings: Settings, path: Path | None = None) -> tuple[SigningKey, Path]:
    """A new signing key for the log's origin, written (mode 0600) to ``path`` — by default where the settings look
    for it — never over a file that is there (:class:`StateConflict`)."""
    path = path or settings.key_file
    key = SigningKey.generate(key_name(settings.log_origin))
    try:
        write_signing_key(path, key)
    except FileExistsError:
        raise key_file_exists(path) from None
    return key, path


def check_origin(settings: Settings, log: CheckpointStore) -> None:
    """Refuse (:class:`StateConflict`) a log whose checkpoints name another origin than the settings: the origin is
    the log's name for life."""
    recorded = log.recorded_origin()
    if recorded is not None and recorded != settings.log_origin:
        raise origin_changed(recorded, settings.log_origin)


def check_origin_at(settings: Settings, database_url: str) -> None:
    """:func:`check_origin` for the log at ``database_url``, before anything opens it."""
    store = CheckpointStore(database_url, origin=settings.log_origin)
    try:
        check_origin(settings, store)
    finally:
        store.close()


def open_log(settings: Settings, database_url: str, *, key: SigningKey | None = None) -> TransparencyLog:
    """The log at ``database_url``, signing with ``key`` (default: the settings' key), once its origin is the one
    the settings name."""
    log = TransparencyLog(
        database_url,
        origin=settings.log_origin,
        signing_key=key or signing_key(settings),
        witnesses=settings.witness_endpoints,
        witness_timeout=settings.witness_timeout,
    )
    try:
        if settings.create_schema:
            log.create_tables()
        check_origin(settings, log)
    except BaseException:
        log.close()
        raise
    return log
