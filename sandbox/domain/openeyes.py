"""The OpenEyes patient search (PatientController::actionSearch): find, order, page and shape patients. No Flask.

Not imitated: institution/site settings (the primary identifier is always the Hospital Number),
other identifier types, and OpenEyes' own paging metadata (the body is a bare array, as the seed shows).
"""

from __future__ import annotations

import re
from datetime import date

from . import clock
from .openeyes_terms import NameQuery, NumberQuery, parse_term

HOSPITAL_NUMBER, NHS_NUMBER = "LOCAL-1-0", "GLOBAL-1-0"
# id -> (key = unique_row_string, long title)
IDENTIFIER_TYPES = {1: (HOSPITAL_NUMBER, "Hospital Number"), 2: (NHS_NUMBER, "NHS Number")}
TITLES = {key: title for key, title in IDENTIFIER_TYPES.values()}
NOT_APPLICABLE = {"title": "N/A", "value": "None"}
DEFAULT_PAGE_SIZE, EMPTY_PAGE_SIZE, MAX_PAGE_SIZE = 20, 10, 100
HOSPITAL_NUMBER_WIDTH = 7
_INTEGER = re.compile(r"^[+-]?\d{1,18}$", re.ASCII)


class Unanswerable(Exception):
    """A parameter that can match nothing: the endpoint answers 200 `[]`, never an error status."""


def search_patients(world, params: dict) -> list[dict]:
    """The page of patients a search asks for, as the endpoint returns them (`params` are raw strings)."""
    try:
        type_key = identifier_type(params.get("patient_identifier_type"))
        size = page_size(params.get("pageSize"))
        page = _integer(params.get("Patient_page"), default=1)
    except Unanswerable:
        return []
    query = parse_term(params.get("term"))
    if query is None:
        return []
    patients = sorted(find_patients(world, query, type_key), key=_order)
    start = _page_start(len(patients), size, page)
    today = clock.today(world)
    return [shape(patient, today, type_key) for patient in patients[start:start + size]]


def identifier_type(raw: str | None) -> str | None:
    """The key of the requested identifier type (its integer id or its key), None if absent."""
    value = (raw or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit() and int(value) in IDENTIFIER_TYPES:
        return IDENTIFIER_TYPES[int(value)][0]
    if value.upper() in TITLES:
        return value.upper()
    raise Unanswerable(f"unknown patient identifier type {value!r}")


def page_size(raw: str | None) -> int:
    size = _integer(raw, default=DEFAULT_PAGE_SIZE)
    return EMPTY_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)


def _integer(raw: str | None, default: int) -> int:
    value = (raw or "").strip()
    if not value:
        return default
    if not _INTEGER.match(value):
        raise Unanswerable(f"not an integer: {value!r}")
    return int(value)


def _page_start(total: int, size: int, page: int) -> int:
    """1-based pages; page 0 or less is the first, a page past the end is the last."""
    last_page = max(1, -(-total // size))
    return (min(max(page, 1), last_page) - 1) * size


def find_patients(world, query: NameQuery | NumberQuery, type_key: str | None) -> list[dict]:
    """Every visible patient the query matches (in no particular order). Index lookups only, no scan."""
    if isinstance(query, NameQuery):
        found = _by_name(world["openeyes_patients"], query)
    else:
        found = _by_number(world["openeyes_patients"], query, type_key)
    return [p for p in found if not p.get("deleted") and p.get("merged_into") is None]


def _by_name(table, query: NameQuery) -> list[dict]:
    """Prefix on the last name (or the first name when only that is given); the rest is checked per hit."""
    candidates = table.prefix("last_name", query.last) if query.last is not None else table.prefix("first_name", query.first)
    return [p for p in candidates
            if _starts(p.get("first_name"), query.first) and _starts(p.get("last_name"), query.last)
            and (query.dob is None or p.get("dob") == query.dob.isoformat())]


def _starts(name: str | None, prefix: str | None) -> bool:
    return prefix is None or (name or "").strip().lower().startswith(prefix)


def _by_number(table, query: NumberQuery, type_key: str | None) -> list[dict]:
    """Exact identifier values; short numbers also as a zero-padded Hospital Number unless a type is given."""
    wanted = {(key, query.value) for key in ([type_key] if type_key else TITLES)}
    if type_key is None and query.short_numeric:
        wanted.add((HOSPITAL_NUMBER, query.value.zfill(HOSPITAL_NUMBER_WIDTH)))
    found: dict[int, dict] = {}
    for value in {value for _, value in wanted}:
        for patient in table.find("identifier", value):
            if any((i["type"], i["value"].upper()) in wanted for i in patient.get("identifiers", ())):
                found[patient.doc_id] = patient
    return list(found.values())


def hospital_number(patient: dict) -> str | None:
    return next((i["value"] for i in patient.get("identifiers", ()) if i["type"] == HOSPITAL_NUMBER), None)


def _order(patient: dict) -> tuple:
    """By the numeric value of the primary identifier (its digits), then id; no hospital number sorts last."""
    digits = "".join(ch for ch in hospital_number(patient) or "" if ch.isascii() and ch.isdigit())
    return (0, int(digits), patient["id"]) if digits else (1, 0, patient["id"])


def age(patient: dict, today: date) -> str:
    """Whole years on `today` (the sandbox clock's), or "Deceased"."""
    if patient.get("date_of_death"):
        return "Deceased"
    born = date.fromisoformat(patient["dob"])
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return str(max(years, 0))


def shape(patient: dict, today: date, type_key: str | None) -> dict:
    """One element of the response array, field for field as the seed's example."""
    identifiers = [{"title": TITLES[i["type"]], "value": i["value"]} for i in patient.get("identifiers", ())]
    number = hospital_number(patient)
    primary = {"title": TITLES[HOSPITAL_NUMBER], "value": number} if number and type_key is None else NOT_APPLICABLE
    return {
        "id": patient["id"],
        "first_name": patient["first_name"],
        "last_name": patient["last_name"],
        "age": age(patient, today),
        "genderletter": patient.get("gender"),
        "dob": patient["dob"],
        "is_deceased": bool(patient.get("date_of_death")),
        "patient_identifiers": identifiers,
        "primary_patient_identifiers": dict(primary),
    }
