"""Bearer tokens bound to a principal (id, role, organisation): stored hashed, signed, revoked by appending.

- A token is ``jxl_`` and 32 random bytes (URL-safe base64); only its SHA-256 is stored, so a copy of the table
  lets nobody act. ``public`` needs no token and sees only what was disclosed; ``system`` is the scheduler's and
  is never issued.
- **Signed records.** Each record is signed with the log's Ed25519 key (:func:`token_message`) and honoured only
  if the signature verifies with a key the service trusts. The database holds no key, so whoever holds the
  service's role (INSERT only here) cannot mint a token: a row of their making is refused, logged and counted
  (``jixiao_rejected_records_total{kind="token",reason="invalid"}``).
- **Append-only.** Revocation is a row in ``api_token_revocations``; triggers refuse UPDATE, DELETE and TRUNCATE
  on both tables (the one UPDATE allowed is ``jixiao token resign`` signing a record from before signatures), so
  the service role can at worst revoke, visibly, and never revive.
- **One identity per principal id.** A token is issued for an existing id only with the same role and
  organisation; ids clashing in an older ledger are flagged by ``jixiao token list``, and their tokens refused
  until an administrator revokes the wrong ones.
- **Revocation is immediate.** Each service process caches lookups and LISTENs for revocations; the revoker
  NOTIFYs in its transaction and returns only once every listening process has dropped its cache (each
  acknowledges on a second channel) and no dispatcher is still delivering to the principal's subscriptions,
  which it disabled in the same transaction when the principal has no live token left.

The package's jobs, a module each: the records and their signatures (:mod:`.records`), the store with its cache and
revocations (:mod:`.store`), and the caller's principal and role checks as FastAPI dependencies
(:mod:`.dependencies`). What the rest of the service uses is named below.
"""

from api.auth.dependencies import (
    ACTORS,
    Actor,
    Admin,
    Overseer,
    PrincipalDep,
    Reader,
    admit,
    authenticate,
    current_principal,
    require,
    role_of,
)
from api.auth.records import PUBLIC, PrincipalConflict, TokenKeys, TokenRecord, keys_for, token_message
from api.auth.store import TokenGuard, TokenStore

__all__ = [
    "ACTORS",
    "PUBLIC",
    "Actor",
    "Admin",
    "Overseer",
    "PrincipalConflict",
    "PrincipalDep",
    "Reader",
    "TokenGuard",
    "TokenKeys",
    "TokenRecord",
    "TokenStore",
    "admit",
    "authenticate",
    "current_principal",
    "keys_for",
    "require",
    "role_of",
    "token_message",
]
