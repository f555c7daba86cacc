"""Outbound webhooks for admins: register and disable endpoints, read the delivery log, replay a
dead delivery. The events themselves come off the table's stream (jobs.outbound_events)."""

from __future__ import annotations

from chalice import Blueprint

from .. import bootstrap
from ..domain.errors import InvalidInput
from ..domain.outbound import DEAD, DELIVERED, EVENT_TYPES, PENDING
from ..services import outbound as svc
from ..webhook_io import checked_url
from .guard import audit
from .http import caller, json_response, parse, query, route
from .schemas import EndpointIn

bp = Blueprint(__name__)


@route(bp, "/admin/webhooks/endpoints", ("POST",), body=EndpointIn)
def register_endpoint():
    """Register an HTTPS endpoint for some events; the answer carries its signing secret."""
    who = caller(bp).require("admin")
    req = parse(bp, EndpointIn)
    allow_private = bootstrap.settings().outbound_allow_private
    ep, changed = svc.register(
        bootstrap.uow(),
        req.url,
        req.events,
        req.description,
        who.subject,
        bootstrap.now(),
        lambda url: checked_url(url, allow_private),
    )
    if changed:
        audit(bp, who, "webhook.endpoint.register", f"webhook:{ep.endpoint_id}", None, svc.endpoint_view(ep))
    return json_response(svc.endpoint_view(ep, with_secret=True), 201 if changed else 200)


@route(bp, "/admin/webhooks/endpoints")
def list_endpoints():
    caller(bp).require("admin")
    return json_response(
        {
            "endpoints": [svc.endpoint_view(ep) for ep in svc.endpoints(bootstrap.uow())],
            "event_types": list(EVENT_TYPES),
        }
    )


@route(bp, "/admin/webhooks/endpoints/{endpoint_id}", ("DELETE",))
def disable_endpoint(endpoint_id: str):
    """No more deliveries to this endpoint; its delivery log stays."""
    who = caller(bp).require("admin")
    before, after = svc.disable(bootstrap.uow(), endpoint_id, who.subject, bootstrap.now())
    audit(
        bp,
        who,
        "webhook.endpoint.disable",
        f"webhook:{endpoint_id}",
        svc.endpoint_view(before),
        svc.endpoint_view(after),
    )
    return json_response(svc.endpoint_view(after))


@route(bp, "/admin/webhooks/endpoints/{endpoint_id}/deliveries")
def deliveries(endpoint_id: str):
    """The endpoint's delivery log, newest first (`status`: pending, delivered or dead)."""
    caller(bp).require("admin")
    status = query(bp, "status") or None
    if status not in (None, PENDING, DELIVERED, DEAD):
        raise InvalidInput("status is pending, delivered or dead")
    found = svc.log(bootstrap.uow(), endpoint_id, status)
    return json_response({"deliveries": [svc.delivery_view(d) for d in found]})


@route(bp, "/admin/webhooks/deliveries/{delivery_id}/replay", ("POST",))
def replay(delivery_id: str):
    """Queue a dead delivery again, with a new retry window."""
    who = caller(bp).require("admin")
    d, changed = svc.replay(bootstrap.uow(), delivery_id, who.subject, bootstrap.webhook_queue(), bootstrap.now())
    audit(
        bp,
        who,
        "webhook.delivery.replay",
        f"webhook-delivery:{delivery_id}",
        {"status": DEAD} if changed else {"status": d.status},
        {"status": d.status},
    )
    return json_response(svc.delivery_view(d))
