"""Sandbox controls for the other side of the integration: patients, labs, pharmacies, clinics, the bridge agent.

Each changes the world the way that actor would (a denied consent then reads `denied`), then fires the
event, through the same code as `POST /sandbox/webhooks/trigger`. The body only picks records and options.
"""

from __future__ import annotations

from flask.views import MethodView

from ...domain import triggers
from ...schemas.common import ErrorSchema
from ...schemas.webhooks import EventSchema, PicksSchema
from ..blueprint import path_example
from ..context import world
from .blueprint import admin_only, blp

PATIENT = path_example("health_id", "CM-HID-7KQ9-MP42-X8D1", "OpesCare Health ID (both formats)")

# (path, event fired, path parameter (picks key) and its example, summary)
WORLD_CONTROLS = (
    ("/patients/<health_id>/consent/request", "consent.requested", PATIENT,
     "A facility asks the patient for consent: it reads pending (consent.requested)."),
    ("/patients/<health_id>/consent/deny", "consent.denied", PATIENT,
     "The patient denies consent in the app: it reads denied (consent.denied)."),
    ("/patients/<health_id>/lab-orders", "lab_order.created", PATIENT,
     "A clinician orders a lab test (lab_order.created)."),
    ("/patients/<health_id>/lab-results", "lab_result.released", PATIENT,
     "The lab releases a result; it then appears in the patient's records (lab_result.released)."),
    # lab_result.amended: POST /sandbox/patients/{health_id}/lab-results/{lab_result_id}/amend (api/controls/
    # lab_amendments.py) keeps every version; the trigger drives the same code.
    ("/patients/<health_id>/prescriptions", "prescription.issued", PATIENT,
     "A prescriber issues a prescription (prescription.issued)."),
    ("/prescriptions/<prescription_id>/dispense", "prescription.dispensed",
     path_example("prescription_id", "rx_000001", "An active prescription"),
     "The pharmacy dispenses an active prescription (prescription.dispensed)."),
    ("/prescriptions/<prescription_id>/cancel", "prescription.cancelled",
     path_example("prescription_id", "rx_000001", "An active prescription"),
     "The prescriber cancels an active prescription (prescription.cancelled)."),
    ("/patients/<health_id>/appointments", "appointment.created", PATIENT,
     "The clinic books an appointment, tomorrow unless scheduled_at says otherwise (appointment.created)."),
    ("/appointments/<appointment_id>/check-in", "appointment.checked_in",
     path_example("appointment_id", "apt_000001", "A scheduled appointment"),
     "The clinic checks the patient in (appointment.checked_in; also appointment.updated)."),
    ("/appointments/<appointment_id>/cancel", "appointment.cancelled",
     path_example("appointment_id", "apt_000001", "A scheduled appointment"),
     "The clinic cancels a scheduled appointment (appointment.cancelled; also appointment.updated)."),
    ("/patients/<health_id>/documents", "document.issued", PATIENT,
     "A facility issues a document, e.g. a medical certificate (document.issued)."),
    ("/documents/<document_id>/verify", "document.verified",
     path_example("document_id", "doc_000001", "An issued document"),
     "Someone verifies an issued document (document.verified)."),
    ("/encounters/<encounter_id>/close", "encounter.closed",
     path_example("encounter_id", "opc_enc_000001", "A pushed encounter"),
     "The facility closes an encounter (encounter.closed)."),
    ("/patients/<health_id>/payments", "payment.completed", PATIENT,
     "A patient's payment completes at the facility (payment.completed)."),
    ("/bridge-agent/sync-failures", "bridge_agent.sync_failed", None,
     "A facility's bridge agent fails a sync (bridge_agent.sync_failed)."),
)


def _world_control(path: str, event_type: str, parameter: dict | None, summary: str) -> None:
    key = parameter["name"] if parameter else None

    def post(self, picks, **path):
        return triggers.fire(world(), event_type, {**picks, **({key: path[key]} if key else {})})

    post.__doc__ = summary
    post = admin_only(blp.alt_response(422, schema=ErrorSchema, description="validation_failed: the record is not in a "
                                       "state this can happen to (e.g. already dispensed)")(post))
    post = blp.alt_response(404, schema=ErrorSchema, description="Unknown patient, facility or record")(post)
    post = blp.alt_response(400, schema=ErrorSchema, description="A malformed pick")(post)
    post = blp.response(201, EventSchema, description="The event fired")(post)
    post = blp.arguments(PicksSchema(), required=False)(post)
    name = "".join(part.title() for part in event_type.replace(".", "_").split("_"))
    view = type(name, (MethodView,), {"post": post, "__doc__": summary})
    blp.route(path, endpoint=name, parameters=[parameter] if parameter else None)(view)


for _control in WORLD_CONTROLS:
    _world_control(*_control)
