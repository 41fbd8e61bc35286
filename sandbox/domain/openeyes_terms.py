"""OpenEyes search terms: turn a raw `term` into a name query, a number query or nothing. No Flask.

The rules (PatientSearch::getValidSearchTerm and friends, as recorded in the spec):
trim; empty is nothing; exactly one `:` drops a protocol prefix; a term with no digit (optionally
followed by a day-first date) is a name; anything else is a number that must look like an identifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MAX_TERM_LENGTH = 255
# A trailing day-first date, `d/m/yyyy` or `d-m-yyyy` (one separator throughout).
_DATED = re.compile(
    r"^(?P<name>.*?)\s+(?P<day>\d{1,2})(?P<sep>[/-])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4})$", re.ASCII
)
# What an identifier can look like once spaces and dashes are gone: digits (Hospital Number, NHS
# Number) or a letter-prefixed hospital number such as H123456. Anything else with a digit is not one.
_IDENTIFIER = re.compile(r"^(?:[A-Z]{1,2}\d{1,10}|\d{1,10})$", re.ASCII)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class NameQuery:
    """Case-insensitive prefixes (lower-cased; None = not given) and an optional exact date of birth."""

    first: str | None
    last: str | None
    dob: date | None = None


@dataclass(frozen=True)
class NumberQuery:
    """An identifier value: spaces and dashes gone, upper-cased."""

    value: str

    @property
    def short_numeric(self) -> bool:
        """1-9 digits: may also be a Hospital Number without its leading zeros."""
        return self.value.isdigit() and len(self.value) <= 9


def parse_term(raw: str | None) -> NameQuery | NumberQuery | None:
    """The query a term asks for, or None when it can match nothing (the endpoint then answers `[]`)."""
    term = (raw or "").strip()
    if term.count(":") == 1:
        term = term.split(":", 1)[1].strip()
    if not term or len(term) > MAX_TERM_LENGTH:
        return None
    dated = _DATED.match(term)
    name, dob = (dated["name"], _day_first(dated)) if dated else (term, None)
    if not _has_digit(name):
        if dated and dob is None:
            return None  # a name followed by an impossible date such as 31/02/1970
        return _name_query(name, dob)
    return _number_query(term)


def _has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def _day_first(match: re.Match) -> date | None:
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return None


def _name_query(text: str, dob: date | None) -> NameQuery | None:
    """`Last, First`; else `First Rest-is-last`; else one word is the last name. No swapping."""
    text = _SPACES.sub(" ", text.strip())
    if "," in text:
        last, _, first = text.partition(",")
    elif " " in text:
        first, _, last = text.partition(" ")
    else:
        first, last = "", text
    first, last = first.strip().lower() or None, last.strip().lower() or None
    if first is None and last is None:
        return None
    return NameQuery(first=first, last=last, dob=dob)


def _number_query(term: str) -> NumberQuery | None:
    value = "".join(ch for ch in term if ch not in " -").upper()
    if not value.isascii() or not _IDENTIFIER.match(value):
        return None
    return NumberQuery(value)
