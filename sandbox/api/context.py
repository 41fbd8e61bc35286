"""Per-request access to the sandbox: the app's services, the caller's tenant and world."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, g, request

from ..domain.tokens import SigningKey
from ..errors import DuplicateTenantHeader, InvalidRequest
from ..storage.worlds import DEFAULT_TENANT, WorldStore

TENANT_HEADER = "X-Sandbox-Tenant"


@dataclass
class Sandbox:
    """The services one app holds: settings, the worlds, the signing key. Created by create_app only."""

    settings: dict
    store: WorldStore
    key: SigningKey
    extras: dict = field(default_factory=dict)


def sandbox() -> Sandbox:
    return current_app.extensions["opescare_sandbox"]


def tenant() -> str:
    if "tenant" not in g:
        name = request.headers.get(TENANT_HEADER, DEFAULT_TENANT).strip() or DEFAULT_TENANT
        if "," in name:  # the WSGI server joins a repeated header with ",": which one did the proxy pin?
            raise DuplicateTenantHeader(errors={TENANT_HEADER: ["Send this header exactly once."]})
        if not WorldStore.valid_tenant(name):
            raise InvalidRequest(
                "Bad X-Sandbox-Tenant header.",
                errors={TENANT_HEADER: ["Use 1-64 letters, digits, '-' or '_'."]},
            )
        g.tenant = name
    return g.tenant


def world():
    if "world" not in g:
        g.world = sandbox().store.world(tenant())
    return g.world


def check_tenant() -> None:
    """before_request hook: a bad X-Sandbox-Tenant header fails every request with 400, before any work."""
    tenant()
