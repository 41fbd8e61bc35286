"""Endpoint 13: a day's reconciliation is a pure function of (seed, facility, date) whose numbers add up exactly."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from opescare_sandbox import create_app
from opescare_sandbox.domain import clock
from opescare_sandbox.domain.reconciliation import daily_reconciliation
from opescare_sandbox.domain.seed import build_world
from opescare_sandbox.domain.tokens import hash_secret

from .conftest import DEMO_CLIENT

URL = "/api/v1/connect/reconciliation"
CENTRAL = "00000000-0000-0000-0000-100000000001"
LAB = "00000000-0000-0000-0000-100000000005"
MAGIC_DATE = "2026-03-15"
RECORD_KEYS = ["reconciliation_id", "cashier_session_id", "expected_cash", "actual_cash", "expected_digital",
               "actual_digital", "variance", "status", "notes", "payments"]
PAYMENT_KEYS = ["payment_reference", "method", "amount", "currency", "status", "payer_phone", "confirmed_at"]


def reconcile(client, auth, day=None):
    return client.get(URL, query_string={"date": day} if day is not None else {}, headers=auth)


def add_client(world, client_id, facility_id):
    world["clients"].insert({"client_id": client_id, "secret_sha256": hash_secret("s3cret"), "facility_id": facility_id,
                             "scopes": [], "source": "test"})
    return {"client_id": client_id, "client_secret": "s3cret"}


def assert_adds_up(body: dict, day: str, facility_id: str) -> None:
    assert list(body) == ["date", "facility_id", "currency", "summary", "records"]
    assert (body["date"], body["facility_id"], body["currency"]) == (day, facility_id, "XAF")
    for record in body["records"]:
        assert list(record) == RECORD_KEYS
        confirmed = [p for p in record["payments"] if p["status"] == "confirmed"]
        assert record["expected_cash"] == sum(p["amount"] for p in confirmed if p["method"] == "cash")
        assert record["expected_digital"] == sum(p["amount"] for p in confirmed if p["method"] != "cash")
        assert record["variance"] == (record["actual_cash"] + record["actual_digital"]
                                      - record["expected_cash"] - record["expected_digital"])
        assert record["status"] == ("balanced" if record["variance"] == 0 else "discrepancy")
        assert (record["notes"] is None) == (record["status"] == "balanced")
        for payment in record["payments"]:
            assert_plausible_payment(payment, day)
    summary = body["summary"]
    assert summary["expected_total"] == sum(r["expected_cash"] + r["expected_digital"] for r in body["records"])
    assert summary["actual_total"] == sum(r["actual_cash"] + r["actual_digital"] for r in body["records"])
    assert summary["variance"] == summary["actual_total"] - summary["expected_total"] == sum(
        r["variance"] for r in body["records"])
    assert summary["status"] == ("discrepancy" if any(r["status"] == "discrepancy" for r in body["records"])
                                 else "balanced")


def assert_plausible_payment(payment: dict, day: str) -> None:
    assert list(payment) == PAYMENT_KEYS
    assert payment["method"] in ("cash", "mtn_momo", "orange_money", "card", "insurance")
    assert isinstance(payment["amount"], int) and payment["amount"] > 0 and payment["amount"] % 25 == 0
    assert payment["currency"] == "XAF" and payment["status"] in ("confirmed", "pending", "failed")
    if payment["method"] in ("mtn_momo", "orange_money"):
        assert re.fullmatch(r"\+2376\d{8}", payment["payer_phone"])
    else:
        assert payment["payer_phone"] is None
    if payment["status"] == "confirmed":
        assert payment["confirmed_at"].startswith(day + "T") and payment["confirmed_at"].endswith("Z")
    else:
        assert payment["confirmed_at"] is None


def test_totals_and_variances_add_up_for_365_consecutive_dates(client, auth):
    start, statuses = date(2026, 1, 1), []
    for offset in range(365):
        day = (start + timedelta(days=offset)).isoformat()
        response = reconcile(client, auth, day)
        assert response.status_code == 200
        assert_adds_up(response.json, day, CENTRAL)
        statuses.append(response.json["summary"]["status"])
    assert 0.10 <= statuses.count("discrepancy") / 365 <= 0.25


@pytest.mark.parametrize("facility", build_world(42, 0, "fixtures")["facilities"].all(), ids=lambda f: f["type"])
def test_every_facility_type_adds_up_all_year(facility):
    for offset in range(365):
        day = date(2025, 6, 1) + timedelta(days=offset)
        body = daily_reconciliation(42, facility, day)
        assert_adds_up(body, day.isoformat(), facility["facility_id"])
        assert body["records"] and all(r["payments"] for r in body["records"])


def test_same_date_gives_identical_json_across_two_fresh_apps():
    bodies = []
    for _ in range(2):
        client = create_app({"TESTING": True, "IN_MEMORY": True, "RATE_LIMIT_ENABLED": False}).test_client()
        token = client.post("/api/v1/connect/auth/token", json={"grant_type": "client_credentials", **DEMO_CLIENT})
        response = client.get(URL, query_string={"date": "2026-07-04"},
                              headers={"Authorization": f"Bearer {token.json['access_token']}"})
        bodies.append(response.get_data())
    assert bodies[0] == bodies[1] and b'"date":"2026-07-04"' in bodies[0]


def test_a_day_is_a_pure_function_of_seed_facility_and_date():
    facility = {"facility_id": CENTRAL, "type": "hospital"}
    day = date(2026, 7, 4)
    assert daily_reconciliation(42, facility, day) == daily_reconciliation(42, facility, day)
    assert daily_reconciliation(42, facility, day) != daily_reconciliation(43, facility, day)
    assert daily_reconciliation(42, facility, day) != daily_reconciliation(42, facility, day + timedelta(days=1))
    assert daily_reconciliation(42, facility, day)["records"] != daily_reconciliation(
        42, {"facility_id": LAB, "type": "laboratory"}, day)["records"]


def test_the_answer_does_not_depend_on_the_clock_or_on_earlier_requests(client, auth, world, get_token):
    first = reconcile(client, auth, "2026-05-20").json
    reconcile(client, auth, "2026-05-21")
    clock.advance(world, 40 * 86_400)
    assert reconcile(client, {"Authorization": f"Bearer {get_token()}"}, "2026-05-20").json == first


def test_magic_date_is_a_discrepancy_for_every_facility_and_seed():
    for seed in (1, 42, 1234):
        world = build_world(seed, 0, "fixtures")
        assert world.meta["reconciliation_discrepancy_dates"] == [MAGIC_DATE]
        for facility in world["facilities"].all():
            body = daily_reconciliation(seed, facility, date.fromisoformat(MAGIC_DATE), forced_discrepancy=True)
            assert body["summary"]["status"] == "discrepancy" and body["summary"]["variance"] != 0


def test_magic_date_over_http_with_a_note(client, auth):
    body = reconcile(client, auth, MAGIC_DATE).json
    assert body["summary"] == {"expected_total": 1223400, "actual_total": 1221400, "variance": -2000,
                               "status": "discrepancy"}
    odd = [r for r in body["records"] if r["status"] == "discrepancy"]
    assert [(r["variance"], r["notes"]) for r in odd] == [
        (-2000, "Cash short by 2,000 XAF at close; cashier recount pending")]
    assert [r["reconciliation_id"] for r in body["records"]] == [
        f"RCN-20260315-0001-0{n}" for n in range(1, len(body["records"]) + 1)]


def test_default_date_is_today_on_the_sandbox_clock(client, world, get_token):
    clock.set_now(world, datetime(2026, 3, 15, 23, 59, tzinfo=UTC), frozen=True)
    auth = {"Authorization": f"Bearer {get_token()}"}
    assert reconcile(client, auth).json == reconcile(client, auth, MAGIC_DATE).json


@pytest.mark.parametrize("bad", ["2026-02-30", "2026-1-5", "garbage", "", "20260315", "2026-W11-7", "2026-13-01",
                                 "2026-03-15T00:00:00", " 2026-03-15", "２０２６-03-15"])
def test_a_bad_date_is_a_clean_400(client, auth, bad):
    response = reconcile(client, auth, bad)
    assert (response.status_code, response.json["error"], response.json["error_code"]) == (
        400, "invalid_request", "INVALID_REQUEST")
    assert list(response.json["errors"]) == ["date"]


def test_reconciliation_is_for_the_token_facility(client, world, get_token):
    creds = add_client(world, "lab_cashier", LAB)
    body = reconcile(client, {"Authorization": f"Bearer {get_token(creds=creds)}"}, "2026-07-04").json
    assert body["facility_id"] == LAB
    assert_adds_up(body, "2026-07-04", LAB)


def test_token_for_an_unknown_facility_is_404(client, world, get_token):
    creds = add_client(world, "ghost_cashier", "00000000-0000-0000-0000-100000000777")
    response = reconcile(client, {"Authorization": f"Bearer {get_token(creds=creds)}"}, "2026-07-04")
    assert (response.status_code, response.json["error"]) == (404, "facility_not_found")


def test_any_token_will_do_but_one_is_needed(client, get_token):
    assert reconcile(client, {"Authorization": f"Bearer {get_token(scope='pharmacy:stock:read')}"},
                     "2026-07-04").status_code == 200
    response = reconcile(client, {}, "2026-07-04")
    assert (response.status_code, response.json["error"]) == (401, "missing_token")
