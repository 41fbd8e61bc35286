"""What a patient's record holds beyond their own seeded history: merged patients' history, amended lab results.

Seeded history is a pure function of (seed, patient) and never stored, so neither a merge nor an
amendment can rewrite it in place. They are applied here, on read, over what `seeded_records` gives.
"""

from __future__ import annotations

from .seeded_records import seeded_records


def seeded_history(world, patient: dict) -> dict:
    """The patient's seeded history plus that of every patient merged into them (domain/merges.py)."""
    history = seeded_records(world.meta["seed"], patient)
    aliases = world["patient_aliases"].find("survivor_health_id", patient["health_id"])
    if not aliases:
        return history  # the usual case: the shared, cached tuples as they are
    combined = {key: list(rows) for key, rows in history.items()}
    for alias in aliases:
        for key, rows in seeded_records(world.meta["seed"], alias["patient"]).items():
            combined.setdefault(key, []).extend(rows)
    return combined


def amended(world, records: dict) -> dict:
    """`records` with every amended lab result at its latest version (domain/amendments.py)."""
    rows = records.get("lab_results")
    if not rows or not len(world["lab_amendments"]):
        return records
    found = {}
    for row in rows:
        stored = world["lab_amendments"].first("lab_result_id", row["id"])
        found[row["id"]] = amended_row(row, stored["versions"]) if stored else row
    return {**records, "lab_results": [found[row["id"]] for row in rows]}


def amended_row(row: dict, versions: list[dict]) -> dict:
    """The result as records show it: the latest version's value and flag, and every earlier version, newest first."""
    latest = versions[-1]
    value, text = reported(latest["value"])
    if latest["value"] == versions[0]["value"]:  # not amended: as the lab first reported it
        text = row.get("value_text", text)
    shown = {**row, "value_text": text} if "value_text" in row else row
    return {**shown, "value": value, "flag": latest["flag"], "version": latest["version"],
            "amended_at": latest["amended_at"], "amendment_note": latest["note"],
            "previous_versions": [dict(v) for v in reversed(versions[:-1])]}


def reported(value) -> tuple[float | int | None, str | None]:
    """One type per field: (`value`, a number or None; `value_text`, the result as the lab reported it)."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str):
        try:
            return float(value), value
        except ValueError:
            return None, value  # "positive", "<0.5": text only
    return value, f"{value:g}"
