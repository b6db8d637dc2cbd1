"""Webhook subscriptions (see :mod:`api.webhooks`): other systems receive events as they are recorded."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from api.auth import require
from api.body import LedgerRoute
from api.problems import COMMAND_PROBLEMS, EdgeProblem, documented
from api.roles.destinations import DestinationRefused
from api.roles.webhooks import Subscription, WebhookStore
from api.routers.events import parse_types
from api.schemas.subscriptions import DeliveryOut, SubscriptionCreate, SubscriptionCreated, SubscriptionOut
from ledger.domain.errors import Forbidden, NotFound
from ledger.domain.values import Principal, Role

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"], route_class=LedgerRoute)

Subscriber = Annotated[
    Principal, Depends(require(Role.FINANCE, Role.AUDITOR, Role.DEPARTMENT, Role.AGENCY, Role.ADMIN))
]


def _store(request: Request) -> WebhookStore:
    store: WebhookStore = request.app.state.webhooks
    return store


def _refused() -> EdgeProblem:
    return EdgeProblem(
        "webhook-destination-refused",
        "loopback, private, link-local, multicast and unspecified addresses receive no webhooks "
        "unless the operator allows them (JIXIAO_WEBHOOK_ALLOW) "
        "环回、内网、链路本地、组播和未指定地址不接收回调，除非运维方允许",
    )


def _own(request: Request, subscription_id: UUID, principal: Principal) -> Subscription:
    found = _store(request).get(subscription_id)
    if found is None:
        raise NotFound(f"no subscription {subscription_id}", code="object-not-found")
    if principal.role != Role.ADMIN and found.principal.id != principal.id:
        raise Forbidden(
            "a subscription is managed by the principal that made it (or an administrator)", code="role-not-allowed"
        )
    return found


@router.post("", status_code=201, responses=COMMAND_PROBLEMS)
def subscribe(body: SubscriptionCreate, principal: Subscriber, request: Request) -> SubscriptionCreated:
    """Receive, at ``url``, every event of ``topics`` this principal may see: in order, signed, retried."""
    types = list(parse_types(",".join(body.topics)))
    try:
        created, secret = _store(request).create(body.url, types, body.secret, principal, body.after)
    except DestinationRefused:
        raise _refused() from None
    return SubscriptionCreated(secret=secret, **SubscriptionOut.model_validate(created).model_dump())


@router.get("", responses=documented(401, 403))
def list_subscriptions(principal: Subscriber, request: Request) -> list[SubscriptionOut]:
    """Your subscriptions (an administrator sees everyone's)."""
    who = None if principal.role == Role.ADMIN else principal.id
    return [SubscriptionOut.model_validate(item) for item in _store(request).subscriptions(who)]


@router.get("/{subscription_id}", responses=documented(401, 403, 404, 422))
def get_subscription(subscription_id: UUID, principal: Subscriber, request: Request) -> SubscriptionOut:
    """A subscription's status and cursor: where delivery stands, and why it is stuck if it is."""
    return SubscriptionOut.model_validate(_own(request, subscription_id, principal))


@router.post("/{subscription_id}/enable", responses=documented(401, 403, 404, 422))
def enable_subscription(subscription_id: UUID, principal: Subscriber, request: Request) -> SubscriptionOut:
    """Resume delivery (after a dead letter: the stuck event is retried now, then everything after it)."""
    _own(request, subscription_id, principal)
    try:
        enabled = _store(request).set_status(subscription_id, "active")
    except DestinationRefused:
        raise _refused() from None
    assert enabled is not None
    return SubscriptionOut.model_validate(enabled)


@router.post("/{subscription_id}/disable", responses=documented(401, 403, 404, 422))
def disable_subscription(subscription_id: UUID, principal: Subscriber, request: Request) -> SubscriptionOut:
    """Pause delivery; the cursor stays, so enabling it later misses nothing."""
    _own(request, subscription_id, principal)
    disabled = _store(request).set_status(subscription_id, "disabled")
    assert disabled is not None
    return SubscriptionOut.model_validate(disabled)


@router.delete("/{subscription_id}", status_code=204, responses=documented(401, 403, 404, 422))
def unsubscribe(subscription_id: UUID, principal: Subscriber, request: Request) -> None:
    """Delete the subscription and its delivery log."""
    _own(request, subscription_id, principal)
    _store(request).delete(subscription_id)


@router.get("/{subscription_id}/deliveries", responses=documented(401, 403, 404, 422))
def deliveries(
    subscription_id: UUID,
    principal: Subscriber,
    request: Request,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="The last delivery id you have")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    """The delivery log: every attempt with its position, HTTP status or error, and duration."""
    _own(request, subscription_id, principal)
    return [DeliveryOut.model_validate(row) for row in _store(request).deliveries(subscription_id, after, limit)]
