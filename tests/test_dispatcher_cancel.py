"""WebhookDispatcher.cancel_all (the pytest plugin's end of a test): nothing stays pending, queued or on the wire."""

from __future__ import annotations

import pytest

from .webhook_fixtures import WAIT

TRIGGER, DELIVERIES = "/sandbox/webhooks/trigger", "/sandbox/webhooks/deliveries"


@pytest.fixture
def config():
    # One worker and a one-row queue: with three deliveries, one is on the wire, one queued, one left pending.
    return {"WEBHOOK_TIMEOUT": 10.0, "WEBHOOK_WORKERS": 1, "WEBHOOK_QUEUE_SIZE": 1, "WEBHOOK_INTERVAL": 0.05}


def test_cancel_all_cuts_the_attempt_on_the_wire_and_cancels_the_rest(client, receiver, subscribe, dispatcher):
    receiver.delay = 60  # a receiver that hangs far past this test
    for n in range(3):
        subscribe(receiver.url(f"/r{n}"))
    client.post(TRIGGER, json={"type": "patient.created"})
    receiver.wait()  # the one worker is now waiting on the receiver
    outcome = dispatcher.cancel_all(timeout=WAIT)
    assert (len(outcome["cancelled"]), outcome["cut"], outcome["busy"]) == (3, 1, 0)
    report = client.get(DELIVERIES + "?type=patient.created").json["data"][0]["deliveries"]  # not health_id.created
    assert [(d["status"], d["attempts"]) for d in report] == [("cancelled", [])] * 3  # the cut attempt is discarded
    assert receiver.requests.empty()  # nothing else went out


def test_cancel_all_with_nothing_to_cancel_is_a_no_op(dispatcher):
    assert dispatcher.cancel_all() == {"cancelled": [], "dropped": 0, "cut": 0, "busy": 0}


def test_deliveries_after_cancel_all_still_go_out(client, receiver, subscribe, dispatcher):
    receiver.delay = 60
    subscribe(receiver.url())
    client.post(TRIGGER, json={"type": "patient.created"})
    receiver.wait()
    dispatcher.cancel_all(timeout=WAIT)
    receiver.delay = 0
    client.post(TRIGGER, json={"type": "stock.low"})  # no subscription wants it
    client.post(TRIGGER, json={"type": "patient.created"})
    assert receiver.wait()[0].json["type"] == "patient.created"  # the worker is free again
