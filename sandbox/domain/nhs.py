"""NHS numbers: the modulus-11 check digit, validation and generation of valid numbers.

An NHS number is 10 digits; the first nine are weighted 10, 9, ..., 2, the weighted sum is taken
modulo 11 and the check digit is `11 - remainder` (11 becomes 0; 10 means no valid number has
those nine digits). The OpenEyes search never checks this (it matches any 10 digits); the seeded
population only ever holds numbers that pass it.
"""

from __future__ import annotations

import random

WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def normalise(raw: str) -> str:
    """Spaces and dashes dropped: `943 476 5919` and `943-476-5919` are `9434765919`."""
    return "".join(ch for ch in (raw or "") if ch not in " -")


def check_digit(first_nine: str) -> int | None:
    """The check digit of nine digits, or None when no valid NHS number starts with them."""
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError("an NHS number starts with exactly nine digits")
    remainder = sum(int(d) * w for d, w in zip(first_nine, WEIGHTS)) % 11
    check = 11 - remainder
    if check == 10:
        return None
    return 0 if check == 11 else check


def is_valid(raw: str) -> bool:
    """Ten digits (spaces and dashes allowed) whose last digit is the modulus-11 check digit."""
    number = normalise(raw)
    if len(number) != 10 or not number.isascii() or not number.isdigit():
        return False
    return check_digit(number[:9]) == int(number[9])


def generate(rng: random.Random) -> str:
    """A valid NHS number from the given random stream (first digit 4-9, as issued numbers are)."""
    while True:
        first_nine = f"{rng.randint(4, 9)}{rng.randint(0, 99_999_999):08d}"
        check = check_digit(first_nine)
        if check is not None:
            return f"{first_nine}{check}"
