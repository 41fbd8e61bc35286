"""Client credentials created at runtime through `POST /sandbox/clients` (to test scopes and facilities)."""

from __future__ import annotations

import hashlib

from ..errors import DuplicateClient
from . import clock
from .lookup import facility_or_404
from .tokens import hash_secret

# Every scope the Connect docs name; a client may hold any subset (an empty one tests invalid_scope).
KNOWN_SCOPES = (
    "patient:profile:read", "patient:diagnostics:read", "lab:results:read", "pharmacy:stock:read",
    "blood:inventory:read", "health_id:verify", "patient:read", "encounter:push", "lab:push",
    "prescription:push", "facility:sync",
)


DEFAULT_FACILITY = "00000000-0000-0000-0000-100000000001"  # the demo client's (Demo Central Hospital)


def create_client(world, scopes: list[str], facility_id: str | None = None, client_id: str | None = None,
                  client_secret: str | None = None, name: str | None = None) -> dict:
    """Store a new client (only the secret's SHA-256) and return it with its secret, shown this once."""
    with world.transaction():
        facility = facility_or_404(world, facility_id or DEFAULT_FACILITY)
        sequence = world.next_sequence("client")
        client_id = client_id or f"sandbox_client_{sequence:04d}"
        if world["clients"].first("client_id", client_id) is not None:
            raise DuplicateClient(client_id=client_id)
        client_secret = client_secret or _generated_secret(world, sequence)
        doc = world["clients"].insert({
            "client_id": client_id,
            "name": name or client_id,
            "facility_id": facility["facility_id"],
            "scopes": list(dict.fromkeys(scopes)),
            "secret_sha256": hash_secret(client_secret),
            "source": "sandbox",
            "created_at": clock.isoformat(clock.now(world)),
        })
    return {**public_view(doc), "client_secret": client_secret}


def list_clients(world) -> list[dict]:
    return [public_view(doc) for doc in world["clients"].all()]


def public_view(doc: dict) -> dict:
    return {"client_id": doc["client_id"], "name": doc.get("name") or doc["client_id"],
            "facility_id": doc["facility_id"], "scopes": list(doc["scopes"]), "source": doc.get("source", "fixture"),
            "created_at": doc.get("created_at")}


def _generated_secret(world, sequence: int) -> str:
    """Stable across runs (seed + tenant + sequence), like every runtime id; sandbox secrets are not secret."""
    digest = hashlib.sha256(f"{world.meta.get('seed')}:{world.name}:client:{sequence}".encode()).hexdigest()
    return f"sk_sandbox_{digest[:32]}"
