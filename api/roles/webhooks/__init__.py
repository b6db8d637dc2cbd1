"""Webhooks: each subscription receives the events it may see, in position order, signed, retried, dead-lettered.

- **Order**: one event at a time per subscription; the next only after the previous was accepted (2xx). A
  subscription is served by one dispatcher at a time (a PostgreSQL advisory lock), whichever process runs it.
- **Signature**: ``X-Jixiao-Signature: v2=<hex HMAC-SHA256(secret, "<timestamp>.<position>.<body>")>`` with
  ``X-Jixiao-Timestamp`` (Unix seconds) and ``X-Jixiao-Position``: a receiver checks origin, freshness (within 5
  minutes of its clock, as the README says; every attempt is signed anew) and that the position it dedupes by is
  the one signed. ``v2`` names the construction, so a receiver can tell it from another.
- **Destinations**: only public addresses, unless the operator allows more (:mod:`api.roles.destinations`), checked when
  a subscription is made or enabled and at every connection; a refusal is logged as ``refused by policy`` and no
  more, so the delivery log tells nothing about what answers inside the network.
- **Retries**: any failed attempt (non-2xx, timeout, refused, a URL that cannot be delivered to, anything raised on
  the way) is retried after ``backoff × 2^(attempt-1)`` seconds (capped, with jitter); after ``max_attempts`` the
  subscription is dead-lettered: it stops, the event it is stuck on is kept, and re-enabling it (after the receiver
  is fixed) resumes exactly there.
- **Exactly once, by position**: every delivery carries ``X-Jixiao-Position``; the cursor moves only after a 2xx,
  so a receiver that drops a position it has already seen (a crash between its 2xx and our record of it is the
  only way to see one twice) processes each event exactly once.
- Every attempt is logged (``webhook_deliveries``). Successful deliveries are recorded — log rows and the cursor's
  move, in one statement — every ``FLUSH_EVENTS`` deliveries or ``FLUSH_SECONDS``, at the end of a page and before
  any failure is: one round trip per batch, not per event. A crash in between repeats those deliveries, which the
  receiver drops by position as above.
- **Outages**: the dispatcher's loops outlive the database: while it is unreachable (a restart, a failover) they
  retry with back-off, logging once, and resume by themselves; ``healthy`` and ``lag`` say how it is doing.

The package does three jobs, a module each: the subscriptions' tables and every statement over them (:mod:`.store`),
the dispatcher (:mod:`.dispatcher`) and the HTTP sender (:mod:`.sender`). What the rest of the service uses is named
below.
"""

from api.roles.webhooks.dispatcher import Dispatcher, Guard, sign
from api.roles.webhooks.sender import Sender
from api.roles.webhooks.store import (
    Subscription,
    WebhookStore,
    check_url,
    disable_subscriptions,
    wait_for_dispatchers,
)

__all__ = [
    "Dispatcher",
    "Guard",
    "Sender",
    "Subscription",
    "WebhookStore",
    "check_url",
    "disable_subscriptions",
    "sign",
    "wait_for_dispatchers",
]
