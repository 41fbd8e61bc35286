"""Patient merges, as a master patient index does them: one survivor, the merged Health ID kept as an alias. No Flask.

The merged patient's row leaves `patients` (so demographic matching finds one person, not two) and becomes
a row of `patient_aliases`; `lookup.find_patient` follows an alias to the survivor, so every endpoint that
takes a Health ID keeps answering for the merged one. The rules for combining the two records:

- records: every record of the merged patient moves to the survivor (`merged_from` says where it came from);
- consent, per client: the patient's most recent decision wins (granted, denied or revoked, whichever was
  recorded last on either record); a tie goes to the more restrictive; a client that only one record has a
  consent row for keeps it. The row that loses is removed, so one (patient, client) pair has one consent;
- profile: the survivor's fields stand; a blood type the survivor lacks is taken from the merged record,
  and the allergies are the union of both (dropping an allergy on merge would be a safety risk);
- aliases that pointed at the merged patient now point at the survivor (no chains to follow).
"""

from __future__ import annotations

from ..errors import PatientNotFound, ValidationFailed
from . import audit, clock, health_ids
from .events import record_event

# A consent decision's time, by status; the statuses that say no come first in a tie.
DECIDED_AT = {"granted": "granted_at", "revoked": "revoked_at", "denied": "denied_at", "expired": "expires_at"}
RESTRICTIVE_FIRST = ("revoked", "denied", "expired", "pending", "granted")


def merge(world, survivor_raw: str, merged_raw: str, facility_id: str | None = None) -> dict:
    """Merge `merged_raw` into `survivor_raw`; fires `patient.updated`. 404 unknown, 422 same or already merged."""
    survivor_id, merged_id = health_ids.normalise(survivor_raw), health_ids.normalise(merged_raw)
    with world.transaction():
        survivor = world["patients"].first("health_id", survivor_id)
        merged = world["patients"].first("health_id", merged_id)
        for raw, patient, field in ((survivor_id, survivor, "survivor_health_id"), (merged_id, merged, "merged_health_id")):
            if patient is None:
                _refuse_unknown(world, raw, field)
        if survivor_id == merged_id:
            raise ValidationFailed("A patient cannot be merged into itself.",
                                   errors={"merged_health_id": ["Must differ from survivor_health_id."]})
        now = clock.isoformat(clock.now(world))
        moved = _move_records(world, merged_id, survivor_id)
        consents = _combine_consents(world, merged_id, survivor_id)
        survivor = world["patients"].update(survivor.doc_id, _combined_profile(survivor, merged))
        _repoint_aliases(world, merged_id, survivor_id)
        world["patient_aliases"].insert({"health_id": merged_id, "survivor_health_id": survivor_id, "merged_at": now,
                                         "patient": dict(merged)})
        world["patients"].remove(merged.doc_id)
        result = {"survivor_health_id": survivor_id, "merged_health_id": merged_id, "merged_at": now,
                  "records_moved": moved, "consents": consents}
        audit.record(world, "patient.merge", None, "merged", health_id=survivor_id, merged_health_id=merged_id)
        # The docs' payload names what changed, not how: a merge adds the old ID as an identifier of the survivor
        # (the merged ID is in the audit trail and GET /sandbox/audit).
        record_event(world, "patient.updated", {"health_id": survivor_id, "changed_fields": ["identifiers"]},
                     facility_id)
    return result


def _refuse_unknown(world, raw: str, field: str) -> None:
    alias = world["patient_aliases"].first("health_id", raw)
    if alias is not None:
        raise ValidationFailed(f"{raw} was already merged into {alias['survivor_health_id']}.",
                               errors={field: ["Already merged; use the survivor's Health ID."]})
    raise PatientNotFound(health_id=raw)


def _move_records(world, merged_id: str, survivor_id: str) -> int:
    rows = world["records"].find("health_id", merged_id)
    for row in rows:
        world["records"].update(row.doc_id, {"health_id": survivor_id, "merged_from": merged_id})
    return len(rows)


def _decision_key(row: dict) -> tuple:
    """Later decisions sort last; at the same instant, the more restrictive sorts last (it wins)."""
    return (row.get(DECIDED_AT.get(row["status"], "")) or "", -RESTRICTIVE_FIRST.index(row["status"]))


def _combine_consents(world, merged_id: str, survivor_id: str) -> list[dict]:
    """One consent per client after the merge (rules in the module docstring); what each client ends up with."""
    outcome = []
    for row in world["consents"].find("health_id", merged_id):
        kept = world["consents"].first("patient_client", (survivor_id, row["client_id"]))
        if kept is None or _decision_key(row) > _decision_key(kept):
            if kept is not None:
                world["consents"].remove(kept.doc_id)
            kept = world["consents"].update(row.doc_id, {"health_id": survivor_id, "merged_from": merged_id})
        else:
            world["consents"].remove(row.doc_id)
        outcome.append({"client_id": kept["client_id"], "consent_status": kept["status"],
                        "from_health_id": kept.get("merged_from") or survivor_id})
    return sorted(outcome, key=lambda item: item["client_id"])


def _combined_profile(survivor: dict, merged: dict) -> dict:
    allergies = list(survivor.get("allergies") or [])
    allergies += [a for a in merged.get("allergies") or [] if a not in allergies]
    return {"allergies": allergies, "blood_type": survivor.get("blood_type") or merged.get("blood_type")}


def _repoint_aliases(world, merged_id: str, survivor_id: str) -> None:
    for alias in world["patient_aliases"].find("survivor_health_id", merged_id):
        world["patient_aliases"].update(alias.doc_id, {"survivor_health_id": survivor_id})


def survivors_matching(world, match_key) -> list[dict]:
    """The survivors of merged patients whose demographics match (resolve by demographics finds them)."""
    survivors = {alias["survivor_health_id"] for alias in world["patient_aliases"].find("match_key", match_key)}
    return [world["patients"].first("health_id", health_id) for health_id in sorted(survivors)]


def alias_fields(queried_raw: str, body: dict) -> dict:
    """`resolved_via_alias` / `queried_health_id` for an answer about `body["health_id"]` asked for by `queried_raw`."""
    queried = health_ids.normalise(queried_raw)
    via_alias = queried != body["health_id"]
    return {"resolved_via_alias": via_alias, "queried_health_id": queried if via_alias else None}


def with_alias(queried_raw: str, body: dict) -> dict:
    """`body` plus the alias fields when it answers for a survivor (ordinary answers stay as they were)."""
    fields = alias_fields(queried_raw, body)
    return {**body, **fields} if fields["resolved_via_alias"] else body
