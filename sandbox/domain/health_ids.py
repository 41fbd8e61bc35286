"""OpesCare Health IDs: format, checksum, normalisation and generation.

Format `CC-HID-XXXX-XXXX-CCCC`: a two-letter country, two blocks from the 32-symbol alphabet, and a
check block: SHA-256 of `CC + "HID" + block1 + block2`, first 8 hex digits as an integer, its low 20
bits written as 4 base-32 digits (most significant first). The docs' own example IDs fail that check;
they are accepted as legacy IDs listed in `fixtures/documentation_patients.json`.
"""

from __future__ import annotations

import hashlib
import random
import re

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_SYMBOL = "[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]"
PATTERN = re.compile(rf"^([A-Z]{{2}})-HID-({_SYMBOL}{{4}})-({_SYMBOL}{{4}})-({_SYMBOL}{{4}})$")
LEGACY_PATTERN = re.compile(r"^OPC-\d{4}-[A-Z0-9]{5}$")


def normalise(raw: str) -> str:
    """Trim and upper-case, as the API does before any check."""
    return (raw or "").strip().upper()


def check_block(country: str, block1: str, block2: str) -> str:
    digest = hashlib.sha256(f"{country}HID{block1}{block2}".encode("ascii")).hexdigest()
    value = int(digest[:8], 16) & 0xFFFFF
    return "".join(ALPHABET[(value >> shift) & 31] for shift in (15, 10, 5, 0))


def is_well_formed(health_id: str) -> bool:
    return PATTERN.match(health_id) is not None


def is_valid(health_id: str) -> bool:
    """Format and checksum both hold (the value must already be normalised)."""
    match = PATTERN.match(health_id)
    return bool(match) and check_block(match[1], match[2], match[3]) == match[4]


def make(country: str, block1: str, block2: str) -> str:
    return f"{country}-HID-{block1}-{block2}-{check_block(country, block1, block2)}"


def _blocks_from_int(value: int) -> tuple[str, str]:
    symbols = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in range(7, -1, -1))
    return symbols[:4], symbols[4:]


def generate(rng: random.Random, country: str = "CM") -> str:
    """A random checksum-valid ID from the world's seeded random source."""
    return make(country, *_blocks_from_int(rng.getrandbits(40)))


def derive(seed: int, first_name: str, last_name: str, date_of_birth: str, country: str, attempt: int = 0) -> str:
    """The ID of a patient created by resolve: a pure function of (seed, normalised demographics).

    The same new patient gets the same ID in every fresh sandbox with the same seed, whatever else
    happened first; `attempt` moves to the next candidate when the first one is already taken.
    """
    material = "|".join(
        [str(seed), first_name.strip().lower(), last_name.strip().lower(), date_of_birth, country.upper(), str(attempt)]
    )
    value = int.from_bytes(hashlib.sha256(material.encode("utf-8")).digest()[:5], "big")
    return make(country.upper(), *_blocks_from_int(value))
