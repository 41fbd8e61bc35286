"""The verified-token cache: a token's signature is checked once, but expiry, tenant and client are checked on every use."""

from __future__ import annotations

import pytest

from opescare_sandbox.domain import clock, tokens

VERIFY = "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1"


@pytest.fixture
def decodes(monkeypatch):
    """Counts the signature checks (tokens._decode) the requests make."""
    calls = []
    real = tokens._decode

    def counting(key, token):
        calls.append(token)
        return real(key, token)

    monkeypatch.setattr(tokens, "_decode", counting)
    return calls


def use(client, token, tenant=None):
    headers = {"Authorization": f"Bearer {token}", **({"X-Sandbox-Tenant": tenant} if tenant else {})}
    return client.get(VERIFY, headers=headers)


def test_a_token_signature_is_checked_once_then_remembered(client, get_token, decodes):
    token = get_token()
    assert [use(client, token).status_code for _ in range(3)] == [200, 200, 200]
    assert decodes == [token]


def test_a_cached_token_still_expires_on_the_sandbox_clock(client, world, get_token):
    token = get_token()
    assert use(client, token).status_code == 200
    clock.advance(world, 3601)
    response = use(client, token)
    assert (response.status_code, response.json["error"]) == (401, "token_expired")


def test_a_cached_token_is_still_refused_in_another_tenant(client, get_token):
    token = get_token(tenant="team-a")
    assert use(client, token, tenant="team-a").status_code == 200
    response = use(client, token, tenant="team-b")
    assert (response.status_code, response.json["error"]) == (401, "token_invalid")
    assert "another sandbox tenant" in response.json["message"]


def test_a_cached_token_of_a_client_removed_by_a_reset_is_refused(client):
    created = client.post("/sandbox/clients", json={"scopes": ["patient:profile:read"],
                                                    "facility_id": "00000000-0000-0000-0000-100000000001"}).json
    token = client.post("/api/v1/connect/auth/token", json={
        "grant_type": "client_credentials", "client_id": created["client_id"],
        "client_secret": created["client_secret"]}).json["access_token"]
    assert use(client, token).status_code == 200
    client.post("/sandbox/reset")
    response = use(client, token)
    assert (response.status_code, response.json["error"]) == (401, "token_invalid")
    assert "no longer exists" in response.json["message"]


def test_a_failed_check_is_not_remembered(client, get_token, decodes):
    head, payload, signature = get_token().split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    assert [use(client, forged).status_code for _ in range(2)] == [401, 401]
    assert decodes == [forged, forged]


def test_claims_handed_out_are_copies(app, world, get_token):
    key, token = app.extensions["opescare_sandbox"].key, get_token()
    tokens.verify_token(world, key, token, "default")["client_id"] = "someone_else"
    assert tokens.verify_token(world, key, token, "default")["client_id"] == "demo_dev_sandbox"


def test_the_cache_drops_the_least_recently_used_token_beyond_its_size():
    cache = tokens.VerifiedTokens(size=2)
    cache.remember("a", {"sub": "a"})
    cache.remember("b", {"sub": "b"})
    assert cache.get("a") == {"sub": "a"}  # now "b" is the least recently used
    cache.remember("c", {"sub": "c"})
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == ({"sub": "a"}, None, {"sub": "c"}, 2)
