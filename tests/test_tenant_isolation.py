"""Eight CI jobs run the same resolve / consent / push sequence at once, each in its own tenant, over real threads.

Each must see exactly its own data: its own 201 for the same new patient (the same Health ID, since it
is a pure function of seed and demographics), one consent, one pushed lab result, its own events and
audit trail; resetting one tenant leaves the seven others as they were.
"""

from __future__ import annotations

import threading

CASE_A = {"first_name": "Marie", "last_name": "Fouda", "date_of_birth": "1990-07-22", "country_code": "CM",
          "sex": "female", "purpose": "his_registration", "external_reference": "HIS-PAT-00341"}
CONNECT = "/api/v1/connect"
DEMO = {"grant_type": "client_credentials", "client_id": "demo_dev_sandbox", "client_secret": "demo_secret_sandbox_2026"}


def job(app, tenant: str, results: dict, barrier: threading.Barrier) -> None:
    client = app.test_client()
    tenant_header = {"X-Sandbox-Tenant": tenant}
    barrier.wait()
    token = client.post(f"{CONNECT}/auth/token", json=DEMO, headers=tenant_header).json["access_token"]
    headers = {**tenant_header, "Authorization": f"Bearer {token}"}
    resolved = client.post(f"{CONNECT}/patients/resolve", json=CASE_A, headers=headers)
    health_id = resolved.json["health_id"]
    granted = client.post(f"{CONNECT}/patient/{health_id}/consent/grant", json={"consent_type": "full_record"},
                          headers=headers)
    pushed = client.post(f"{CONNECT}/records/lab-results", headers={**headers, "Idempotency-Key": f"lab-{tenant}"},
                         json={"health_id": health_id, "external_lab_order_id": "LAB-1", "test_name": "Haemoglobin",
                               "loinc_code": "718-7", "result_value": "11.2", "unit": "g/dL",
                               "reference_range": "12.0-16.0", "occurred_at": "2026-01-05T10:00:00Z"})
    labs = client.get(f"{CONNECT}/patient/{health_id}/records?type=lab_results", headers=headers).json
    results[tenant] = {
        "statuses": (resolved.status_code, granted.status_code, pushed.status_code),
        "health_id": health_id,
        "labs": [r["test_name"] for r in labs["records"]["lab_results"]],
        "audit": sorted(e["action"] for e in client.get("/sandbox/audit", headers=tenant_header).json["data"]),
    }


def run_jobs(app, tenants):
    results, barrier = {}, threading.Barrier(len(tenants))
    threads = [threading.Thread(target=job, args=(app, t, results, barrier)) for t in tenants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_eight_tenants_run_the_same_sequence_and_each_sees_only_its_own_data(app, store):
    tenants = [f"ci-job-{i}" for i in range(8)]
    results = run_jobs(app, tenants)
    assert set(results) == set(tenants)
    health_ids = {r["health_id"] for r in results.values()}
    assert len(health_ids) == 1 and health_ids.pop().startswith("CM-HID-")
    for tenant in tenants:
        result = results[tenant]
        assert result["statuses"] == (201, 201, 200), tenant
        assert result["labs"] == ["Haemoglobin"], tenant  # exactly one pushed result: its own
        assert result["audit"] == ["consent.grant", "patient.resolve", "records.read"], tenant
        world = store.world(tenant)
        assert [e["type"] for e in world["events"].all()] == [
            "patient.created", "health_id.created", "consent.granted", "lab_result.released"], tenant
    assert store.world("default")["events"].all() == []


def test_resetting_one_tenant_leaves_the_seven_others_untouched(app, store):
    tenants = [f"ci-job-{i}" for i in range(8)]
    run_jobs(app, tenants)
    before = {t: store.world(t).export_json() for t in tenants[1:]}
    app.test_client().post("/sandbox/reset", headers={"X-Sandbox-Tenant": tenants[0]})
    assert store.world(tenants[0])["events"].all() == []
    assert {t: store.world(t).export_json() for t in tenants[1:]} == before
