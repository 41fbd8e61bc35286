"""OpenEyes HTTP Basic: the seed's exact 401/403 bodies, the OprnApi role, hashed users and the verification cache."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from opescare_sandbox.domain import openeyes_auth

URL = "/api/v1/patient/search?term=Smith"
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "openeyes_users.json"


def basic(credentials: bytes | str) -> dict:
    raw = credentials if isinstance(credentials, bytes) else credentials.encode()
    return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}


def assert_401(response):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="OpenEyes"'
    assert response.mimetype == "application/json"
    assert response.get_data(as_text=True) == '"401 Unauthorized"'


def test_api_user_is_let_in(client):
    response = client.get(URL, headers=basic("api_user:password"))
    assert response.status_code == 200 and [p["id"] for p in response.json] == [12345, 12346]


@pytest.mark.parametrize("headers", [
    {},
    basic("api_user:wrong"),
    basic("api_user:"),
    basic("nobody:password"),
    basic("api_user"),                                # no colon
    basic("API_USER:password"),                      # user names are case-sensitive
    {"Authorization": "Basic"},
    {"Authorization": "Basic !!!not-base64"},
    basic(b"api_user:pass\xff"),                       # not UTF-8
    {"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.x"},
    {"Authorization": f"Digest {base64.b64encode(b'api_user:password').decode()}"},
])
def test_missing_or_wrong_credentials_are_the_bare_401(client, headers):
    assert_401(client.get(URL, headers=headers))


def test_post_needs_credentials_too(client):
    assert_401(client.post("/api/v1/patient/search", data={"term": "Smith"}))


def test_bad_term_does_not_reveal_anything_before_auth(client):
    assert_401(client.get("/api/v1/patient/search?term=Smith2&pageSize=abc"))


def test_user_without_oprnapi_role_is_the_bare_403(client):
    response = client.get(URL, headers=basic("viewer:viewer"))
    assert response.status_code == 403
    assert response.mimetype == "application/json"
    assert response.get_data(as_text=True) == '"403 Forbidden"'
    assert "WWW-Authenticate" not in response.headers


def test_wrong_password_of_the_viewer_is_401_not_403(client):
    assert_401(client.get(URL, headers=basic("viewer:password")))


def test_fixture_and_table_hold_only_pbkdf2_hashes(world):
    text = FIXTURE.read_text(encoding="utf-8")
    users = json.loads(text)["users"]
    assert {u["username"]: u["roles"] for u in users} == {"api_user": ["OprnApi"], "viewer": []}
    for user in world["openeyes_users"].all():
        algorithm, iterations, salt, digest = user["password_hash"].split("$")
        assert (algorithm, int(iterations) >= 100_000, len(salt), len(digest)) == ("pbkdf2_sha256", True, 32, 64)
        assert "password" not in {k for k in user if k != "password_hash"}
    assert len({u["password_hash"].split("$")[2] for u in users}) == len(users)  # a salt per user
    names = text.replace("password_hash", "").replace("hash_password", "")
    assert "password" not in names  # no plaintext, not even in a comment


@pytest.mark.parametrize("password,stored,ok", [
    ("s3cret", openeyes_auth.hash_password("s3cret", iterations=1000), True),
    ("s3cret", openeyes_auth.hash_password("other", iterations=1000), False),
    ("s3cret", "md5$1$00$00", False),
    ("s3cret", "pbkdf2_sha256$notanumber$00$00", False),
    ("s3cret", "pbkdf2_sha256$1000$zz$00", False),
    ("s3cret", "garbage", False),
])
def test_check_password(password, stored, ok):
    assert openeyes_auth.check_password(password, stored) is ok


@pytest.fixture
def pbkdf2_calls(monkeypatch):
    calls = []
    real = openeyes_auth.check_password

    def counting(password, stored):
        calls.append(password)
        return real(password, stored)

    monkeypatch.setattr(openeyes_auth, "check_password", counting)
    return calls


def test_a_successful_verification_is_cached(client, pbkdf2_calls):
    for _ in range(5):
        assert client.get(URL, headers=basic("api_user:password")).status_code == 200
    assert pbkdf2_calls == ["password"]


def test_failures_are_never_cached(client, pbkdf2_calls):
    for _ in range(3):
        assert_401(client.get(URL, headers=basic("api_user:wrong")))
    assert pbkdf2_calls == ["wrong"] * 3


def test_a_cached_password_stops_working_when_the_stored_hash_changes(client, world, pbkdf2_calls):
    assert client.get(URL, headers=basic("api_user:password")).status_code == 200
    user = world["openeyes_users"].first("username", "api_user")
    world["openeyes_users"].update(user.doc_id, {"password_hash": openeyes_auth.hash_password("new", iterations=1000)})
    assert_401(client.get(URL, headers=basic("api_user:password")))
    assert client.get(URL, headers=basic("api_user:new")).status_code == 200


def test_the_cache_is_bounded_and_drops_the_least_recently_used():
    cache = openeyes_auth.VerifiedCache(size=2)
    keys = [openeyes_auth.VerifiedCache.key("u", str(i)) for i in range(3)]
    cache.remember(keys[0], "h")
    cache.remember(keys[1], "h")
    assert cache.holds(keys[0], "h")   # 0 is now the most recently used
    cache.remember(keys[2], "h")
    assert (len(cache), cache.holds(keys[0], "h"), cache.holds(keys[1], "h"), cache.holds(keys[2], "h")) == (
        2, True, False, True)


def test_other_failures_use_the_sandbox_envelope(client):
    response = client.put(URL, headers=basic("api_user:password"))
    assert (response.status_code, response.json["error"]) == (405, "method_not_allowed")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    response = client.get(URL, headers={**basic("api_user:password"), "X-Sandbox-Tenant": "bad tenant!"})
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
