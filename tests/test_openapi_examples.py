"""Each response example matches its status: error responses show the envelope the sandbox really sends."""

from __future__ import annotations

from opescare_sandbox.api.examples import error_body, error_examples


def responses(client):
    for path, item in client.get("/openapi.json").json["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                for status, response in operation["responses"].items():
                    yield path, method, status, response


def test_every_error_response_shows_bodies_of_its_own_status(client):
    seen = 0
    for path, method, status, response in responses(client):
        if not status.isdigit() or int(status) < 400 or "content" not in response:
            continue
        examples = response["content"]["application/json"]["examples"]
        for example in examples.values():
            body = example["value"]
            assert body["status"] == int(status), (path, method, status, body)
            assert body["error_code"] == body["error"].upper()
            seen += 1
    assert seen > 50


def test_the_codes_a_description_names_are_its_examples():
    assert list(error_examples(404, "subscription_not_found (also another client's)")) == ["subscription_not_found"]
    assert list(error_examples(422, "validation_failed: unknown event types; subscription_limit: too many")) == [
        "validation_failed", "subscription_limit"]
    assert error_body(403)["error"] != "consent_required"  # not the one example every status used to show
    assert error_examples(403, "consent_required")["consent_required"]["value"]["status"] == 403


def test_resolve_shows_found_for_200_and_created_for_201(client):
    resolve = client.get("/openapi.json").json["paths"]["/api/v1/connect/patients/resolve"]["post"]["responses"]
    assert resolve["200"]["content"]["application/json"]["example"]["status"] == "found"
    assert resolve["201"]["content"]["application/json"]["example"]["status"] == "created"
