"""Wiring of the transparency log: the signing key, the origin, the log object."""

from __future__ import annotations

from api.config.settings import Settings
from ledger.log.checkpoint import SigningKey, load_or_create_signing_key
from ledger.store.tlog import TransparencyLog


def signing_key(settings: Settings) -> SigningKey:
    """The checkpoint signing key: from JIXIAO_SIGNING_KEY, else the key file (created on first use, mode 0600)."""
    if settings.signing_key:
        return SigningKey.from_string(settings.signing_key)
    name = settings.log_origin.replace("/", "-")
    return load_or_create_signing_key(settings.key_file, name)


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
