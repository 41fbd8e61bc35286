"""NHS numbers: the modulus-11 check digit, validation with spaces and dashes, generation."""

from __future__ import annotations

import random

import pytest

from opescare_sandbox.domain import nhs


@pytest.mark.parametrize("first_nine,check", [
    ("943476591", 9),   # the NHS Digital data dictionary's example 943 476 5919
    ("401023213", 7),
    ("123456789", None),  # remainder 1: check would be 10, so no valid number starts with these digits
    ("000000000", 0),     # remainder 0: check 11 becomes 0
])
def test_check_digit(first_nine, check):
    assert nhs.check_digit(first_nine) == check


@pytest.mark.parametrize("bad", ["12345678", "1234567890", "12345678a", "١٢٣٤٥٦٧٨٩"])
def test_check_digit_needs_nine_ascii_digits(bad):
    with pytest.raises(ValueError):
        nhs.check_digit(bad)


@pytest.mark.parametrize("number,valid", [
    ("9434765919", True),
    ("943 476 5919", True),
    ("943-476-5919", True),
    ("9434765918", False),   # wrong check digit
    ("1234567890", False),   # the OpenEyes docs' example: not a valid NHS number, still searchable
    ("943476591", False),    # nine digits
    ("94347659190", False),  # eleven digits
    ("943476591X", False),
    ("", False),
])
def test_is_valid(number, valid):
    assert nhs.is_valid(number) is valid


def test_generated_numbers_are_valid_and_deterministic():
    first = [nhs.generate(random.Random(7)) for _ in range(1)] + [nhs.generate(random.Random(i)) for i in range(500)]
    again = [nhs.generate(random.Random(7))] + [nhs.generate(random.Random(i)) for i in range(500)]
    assert first == again
    assert all(nhs.is_valid(n) and len(n) == 10 and n[0] in "456789" for n in first)
