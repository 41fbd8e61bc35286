"""The request journal: what it records, redaction and truncation, filters, clearing, and its bound under load."""

from __future__ import annotations

import json
import tracemalloc

import pytest

from opescare_sandbox.storage.journal import BODY_LIMIT, RequestJournal, body_excerpt, query_excerpt

from .conftest import DEMO_CLIENT
from .probes import CONNECT_PROBE, add_probes

URL = "/sandbox/requests"
TOKEN_URL = "/api/v1/connect/auth/token"


@pytest.fixture
def app(app):
    return add_probes(app)


def entries(client, query="", tenant=None):
    response = client.get(URL + query, headers={"X-Sandbox-Tenant": tenant} if tenant else {})
    assert response.status_code == 200, response.json
    return response.json["data"]


def test_an_entry_records_the_exchange(client):
    client.post("/sandbox/clock?x=1", json={"now": "2030-01-01T00:00:00Z", "frozen": True})
    entry = entries(client)[0]
    assert 0 <= entry.pop("duration_ms") < 5000
    response_body = json.loads(entry.pop("response_body"))
    assert entry == {"id": "req_000001", "at": "2030-01-01T00:00:00Z", "method": "POST", "path": "/sandbox/clock",
                     "query": "x=1", "status": 200, "client_id": None, "request_id": "req_000001",
                     "request_body": '{"now": "2030-01-01T00:00:00Z", "frozen": true}'}
    assert {k: response_body[k] for k in ("now", "frozen")} == {"now": "2030-01-01T00:00:00Z", "frozen": True}


def test_client_id_comes_from_the_verified_token(client, auth):
    client.get(CONNECT_PROBE, headers=auth)
    client.get(CONNECT_PROBE, headers={"Authorization": "Bearer forged"})
    assert [(e["status"], e["client_id"]) for e in entries(client)[:2]] == [(401, None), (200, "demo_dev_sandbox")]


def test_secrets_and_tokens_never_reach_the_journal(client):
    client.post(TOKEN_URL, json={"grant_type": "client_credentials", **DEMO_CLIENT})
    client.post(TOKEN_URL, data={"grant_type": "client_credentials", **DEMO_CLIENT})
    client.post(TOKEN_URL + "?client_secret=demo_secret_sandbox_2026", data="client_secret=demo_secret_sandbox_2026",
                content_type="text/plain")
    text = json.dumps(entries(client))
    assert "demo_secret_sandbox_2026" not in text and "eyJ" not in text
    assert text.count("[redacted]") == 5  # 2 request secrets, 2 access tokens, 1 query
    assert "[unparsed body: 38 bytes]" in text  # the text body: no excerpt at all


def test_bodies_are_truncated(client):
    client.post("/sandbox/clock", json={"now": "x" * 10_000})
    entry = entries(client)[0]
    assert entry["status"] == 400
    assert len(entry["request_body"]) == BODY_LIMIT + len("…[truncated]")


def test_newest_first_with_filters(client, auth):
    client.get(CONNECT_PROBE, headers=auth)
    client.post(CONNECT_PROBE + "/audit", headers=auth)
    client.get("/sandbox/clock")
    client.get("/api/v1/connect/nowhere")
    assert [e["path"] for e in entries(client)] == [
        "/api/v1/connect/nowhere", "/sandbox/clock", CONNECT_PROBE + "/audit", CONNECT_PROBE, TOKEN_URL]
    assert [e["path"] for e in entries(client, "?method=post")] == [CONNECT_PROBE + "/audit", TOKEN_URL]
    assert [e["path"] for e in entries(client, f"?path={CONNECT_PROBE}")] == [CONNECT_PROBE + "/audit", CONNECT_PROBE]
    assert [e["path"] for e in entries(client, "?status=404")] == ["/api/v1/connect/nowhere"]
    assert len(entries(client, "?client_id=demo_dev_sandbox")) == 2
    assert len(entries(client, "?limit=2")) == 2


@pytest.mark.parametrize("query", ["?status=abc", "?status=99", "?limit=0", "?limit=x"])
def test_bad_filters_are_400(client, query):
    response = client.get(URL + query)
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")


def test_reading_the_journal_and_health_are_not_journaled(client):
    client.get("/sandbox/health")
    client.get(URL)
    client.get(URL + "?limit=5")
    assert entries(client) == []


def test_delete_clears_it(client):
    client.get("/sandbox/clock")
    response = client.delete(URL)
    assert (response.status_code, response.data) == (204, b"")
    assert entries(client) == []


def test_journals_are_per_tenant(client):
    client.get("/sandbox/clock", headers={"X-Sandbox-Tenant": "a"})
    assert len(entries(client, tenant="a")) == 1
    assert entries(client, tenant="b") == []


def test_reset_keeps_the_journal(client):
    client.get("/sandbox/clock")
    client.post("/sandbox/reset")
    assert [e["path"] for e in entries(client)] == ["/sandbox/reset", "/sandbox/clock"]


def test_the_ring_buffer_drops_the_oldest():
    journal = RequestJournal(3)
    for i in range(5):
        journal.record({"n": i, "method": "GET", "path": "/", "status": 200, "client_id": None})
    assert [e["n"] for e in journal.query()] == [4, 3, 2]
    assert journal.query()[0]["id"] == "req_000005"


@pytest.mark.parametrize("raw,expected", [
    (b"", None), (b'{"a": 1}', '{"a": 1}'), (b'{"secret": "x", "n": [{"password": "p"}]}',
                                             '{"secret":"[redacted]","n":[{"password":"[redacted]"}]}'),
    (b'{"webhook_secret": "whsec_1", broken', "[unparsed body: 36 bytes]"),  # no excerpt: nothing to redact by
])
def test_body_excerpt(raw, expected):
    assert body_excerpt(raw) == expected


def test_query_excerpt_redacts_secrets():
    assert query_excerpt("a=1&access_token=abc&b=2") == "a=1&access_token=[redacted]&b=2"


def test_the_journal_stays_within_its_bound_after_20000_requests(client, app):
    journal_size = app.config["JOURNAL_SIZE"]
    assert journal_size == 1000
    for _ in range(17_000):
        client.get("/sandbox/clock")
    tracemalloc.start()
    try:
        for _ in range(journal_size):  # every entry in the buffer is now one tracemalloc sees
            client.get("/sandbox/clock")
        full = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            client.get("/sandbox/clock")
        growth = tracemalloc.get_traced_memory()[0] - full
    finally:
        tracemalloc.stop()
    journal = app.extensions["opescare_sandbox"].extras["journals"]("default")
    assert len(journal) == journal_size
    assert journal.query(limit=1)[0]["id"] == "req_020000"
    assert growth < 64 * 1024, f"memory grew by {growth} bytes over the last 2,000 requests"
