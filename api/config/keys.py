"""Wiring of the transparency log: the signing key, the origin, the log object."""

from __future__ import annotations

from api.config.settings import Settings
from api.config.state import describe_data_dir, missing_key
from ledger.log.checkpoint import SigningKey, load_or_create_signing_key
from ledger.store.tlog import TransparencyLog


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
    return load_or_create_signing_key(path, settings.log_origin)


def open_log(settings: Settings, database_url: str) -> TransparencyLog:
    log = TransparencyLog(
        database_url,
        origin=settings.log_origin,
        signing_key=signing_key(settings),
        witnesses=settings.witness_endpoints,
        witness_timeout=settings.witness_timeout,
    )
    if settings.create_schema:
        log.create_tables()
    return log
