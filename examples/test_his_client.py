"""The HIS client (his_client.py) over real HTTP against `sandbox_server`; state checked in-process through `sandbox`,
what the client sent through the request journal, webhooks through the `sandbox_webhooks` receiver."""

import pytest
from his_client import ConnectClient, ConnectError, verify_webhook

PENDING_PATIENT = "OPC-2024-XK7T9"  # Jean Dupont: consent pending for the demo client
CONSENTED_PATIENT = "OPC-2024-DEMO1"  # consent granted to the demo client
LAB_RESULT = {"health_id": CONSENTED_PATIENT, "external_lab_order_id": "LAB-ORD-0001",
              "test_name": "Hemoglobin [Mass/volume] in Blood", "loinc_code": "718-7", "result_value": 10.9,
              "unit": "g/dL", "reference_range": "12.0-17.5", "occurred_at": "2026-11-20T10:00:00Z",
              "source_system": "ExampleHIS"}


@pytest.fixture
def his(sandbox_server):
    return ConnectClient(sandbox_server.url, sandbox_server.client_id, sandbox_server.client_secret)


def test_resolve_registers_then_finds_the_same_patient(his, sandbox):
    marie = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22", "sex": "female"}
    created = his.resolve_patient(**marie)
    assert (created["status"], his.resolve_patient(**marie)["status"]) == ("created", "found")
    assert his.resolve_patient(created["health_id"])["status"] == "found"
    stored = sandbox.world["patients"].first("health_id", created["health_id"])  # the server's world, in-process
    assert (stored["first_name"], stored["source"]) == ("Marie", "resolve")


def test_records_need_consent_and_the_client_can_grant_it(his):
    with pytest.raises(ConnectError) as refused:
        his.records(PENDING_PATIENT)
    assert (refused.value.status, refused.value.error) == (403, "consent_required")
    assert his.grant_consent(PENDING_PATIENT)["consent_status"] == "granted"
    assert his.consent(PENDING_PATIENT)["consent_status"] == "granted"
    assert his.records(PENDING_PATIENT, "diagnoses")["records"]["diagnoses"]


def test_a_retried_lab_push_is_stored_once(his, sandbox):
    first = his.push_lab_result(LAB_RESULT, idempotency_key="lab-LAB-ORD-0001")
    again = his.push_lab_result(LAB_RESULT, idempotency_key="lab-LAB-ORD-0001")  # e.g. after a timeout
    sandbox.assert_requested("POST", "/api/v1/connect/records/lab-results", times=2, json=LAB_RESULT)
    assert first == again == {"status": "accepted", "opescare_record_id": first["opescare_record_id"],
                              "sync_status": "synced"}
    labs = sandbox.get(f"/api/v1/connect/patient/{CONSENTED_PATIENT}/records?type=lab_results").json
    pushed = [lab for lab in labs["records"]["lab_results"] if lab["id"] == first["opescare_record_id"]]
    assert [(lab["value"], lab["flag"]) for lab in pushed] == [(10.9, "low")]


def test_the_same_key_with_another_body_is_a_conflict(his):
    his.push_lab_result(LAB_RESULT, idempotency_key="lab-LAB-ORD-0001")
    with pytest.raises(ConnectError) as conflict:
        his.push_lab_result({**LAB_RESULT, "result_value": 11.2}, idempotency_key="lab-LAB-ORD-0001")
    assert (conflict.value.status, conflict.value.error) == (409, "idempotency_conflict")


def test_the_client_renews_its_token_when_the_server_clock_has_moved(his, sandbox_server, sandbox):
    his.consent(CONSENTED_PATIENT)
    sandbox_server.advance_clock(3700)  # past the token's hour on the sandbox clock; the client's clock did not move
    assert his.consent(CONSENTED_PATIENT)["consent_status"] == "granted"
    assert [(r["path"].rsplit("/", 1)[-1], r["status"]) for r in sandbox.requests()] == [
        ("token", 200), ("consent", 200), ("consent", 401), ("token", 200), ("consent", 200)]


def test_a_new_patient_is_announced_by_a_signed_webhook(his, sandbox_webhooks):
    health_id = his.resolve_patient(first_name="Paul", last_name="Biya", date_of_birth="1985-02-13")["health_id"]
    event = sandbox_webhooks.wait_for("patient.created")  # the receiver already checked the signature
    assert event["data"]["health_id"] == health_id


def test_the_his_signature_check_accepts_real_deliveries(his, sandbox_webhooks):
    his.resolve_patient(first_name="Paul", last_name="Biya", date_of_birth="1985-02-13")
    sandbox_webhooks.wait_for("patient.created")
    got = sandbox_webhooks.received[0]  # headers and the raw body, exactly as sent
    assert verify_webhook(sandbox_webhooks.secret, got.headers, got.body)
    assert not verify_webhook(sandbox_webhooks.secret, got.headers, got.body + b" ")  # one byte changed: refused


@pytest.mark.sandbox(scenario="invalid_webhook_signature")
def test_a_forged_signature_is_refused(his, sandbox_server, sandbox_webhooks):
    marker = sandbox_server.scenario["input"]["callback_url"].split("?", 1)[1]  # the scenario's magic query
    secret = his.subscribe(f"{sandbox_webhooks.url}?{marker}", ["patient.created"])["webhook_secret"]
    his.resolve_patient(first_name="Paul", last_name="Biya", date_of_birth="1985-02-13")
    sandbox_server.deliveries()  # runs due deliveries now and waits for them: no sleeping
    [forged] = sandbox_webhooks.rejected  # the receiver refused it (400); the fixture's own subscription got a good one
    assert not verify_webhook(secret, forged.headers, forged.body)


@pytest.mark.sandbox(scenario="multiple_patient_matches")
def test_ambiguous_demographics_raise_with_the_candidates(his, sandbox_server):
    with pytest.raises(ConnectError) as ambiguous:
        his.resolve_patient(**sandbox_server.scenario["input"])
    assert ambiguous.value.status == 409
    assert len(ambiguous.value.body["candidates"]) == 2


def test_a_merged_health_id_is_replaced_by_the_survivors(his, sandbox):
    survivor = "CM-HID-7KQ9-MP42-X8D1"  # Amara Ngo; Jean Dupont's record turns out to be hers and is merged into it
    assert his.canonical_health_id(PENDING_PATIENT) == PENDING_PATIENT and his.merged_ids == {}
    merged = sandbox.post("/sandbox/patients/merge",
                          json={"survivor_health_id": survivor, "merged_health_id": PENDING_PATIENT})
    assert merged.status_code == 200
    assert his.canonical_health_id(PENDING_PATIENT) == survivor
    assert his.merged_ids == {PENDING_PATIENT: survivor}
    assert his.consent(PENDING_PATIENT)["health_id"] == survivor  # the old ID still answers, for the survivor


def test_deliveries_verify_with_either_secret_during_a_rotation_and_only_the_new_one_after(
        his, sandbox, sandbox_server, sandbox_webhooks):
    old = his.subscribe(f"{sandbox_webhooks.url}?his=rotation", ["patient.created"])
    rotated = sandbox.post(f"/sandbox/webhooks/subscriptions/{old['subscription_id']}/rotate-secret", json={}).json
    new = rotated["webhook_secret"]
    his.resolve_patient(first_name="Paul", last_name="Biya", date_of_birth="1985-02-13")
    sandbox_server.deliveries()  # runs due deliveries now and waits for them
    [during] = sandbox_webhooks.rejected  # signed with our subscription's secrets, not the fixture's own
    assert verify_webhook([new, old["webhook_secret"]], during.headers, during.body)
    assert verify_webhook(new, during.headers, during.body) and verify_webhook(old["webhook_secret"], during.headers,
                                                                                during.body)
    sandbox_server.advance_clock(24 * 3600)  # the grace window ends on the sandbox clock
    his.resolve_patient(first_name="Anne", last_name="Mbarga", date_of_birth="1979-08-30")
    sandbox_server.deliveries()
    later = sandbox_webhooks.rejected[1:]  # the new event, and the first one's retry (it was refused, so it is due)
    assert len(later) == 2
    assert all(verify_webhook([new, old["webhook_secret"]], got.headers, got.body) for got in later)
    assert not any(verify_webhook(old["webhook_secret"], got.headers, got.body) for got in later)
