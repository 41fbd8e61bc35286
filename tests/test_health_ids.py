"""Health IDs: the spec's examples, normalisation, and the IDs the sandbox derives for new patients."""

from __future__ import annotations

import random

import pytest

from opescare_sandbox.domain import health_ids


@pytest.mark.parametrize("health_id", ["CM-HID-7KQ9-MP42-WZFB", "CM-HID-ABCD-EFGH-AUG5", "NG-HID-8R2A-QK93-4LZC"])
def test_spec_examples_pass_the_checksum(health_id):
    assert health_ids.is_valid(health_id)


def test_wrong_check_block_fails_though_well_formed():
    assert health_ids.is_well_formed("CM-HID-7KQ9-MP42-AAAA")
    assert not health_ids.is_valid("CM-HID-7KQ9-MP42-AAAA")


def test_docs_example_id_fails_format_and_checksum():
    # "1" is not in the 32-symbol alphabet, so the docs' ID is not even well-formed; it is a legacy ID.
    assert not health_ids.is_well_formed("CM-HID-7KQ9-MP42-X8D1")
    assert not health_ids.is_valid("CM-HID-7KQ9-MP42-X8D1")


def test_check_block_matches_the_spec_example():
    assert health_ids.check_block("CM", "7KQ9", "MP42") == "WZFB"
    assert health_ids.make("NG", "8R2A", "QK93") == "NG-HID-8R2A-QK93-4LZC"


@pytest.mark.parametrize("raw", [
    "cm-hid-7kq9-mp42-wzfb", "  CM-HID-7KQ9-MP42-WZFB\n", "\tcm-HID-7Kq9-mp42-WZfb ",
])
def test_normalise_trims_and_upper_cases(raw):
    assert health_ids.normalise(raw) == "CM-HID-7KQ9-MP42-WZFB"
    assert health_ids.is_valid(health_ids.normalise(raw))


@pytest.mark.parametrize("bad", [
    "", "CM-HID-7KQ9-MP42", "CMR-HID-7KQ9-MP42-WZFB", "CM-HID-7KQ9-MP42-WZFB-", "CM-HIX-7KQ9-MP42-WZFB",
    "CM-HID-7KQ0-MP42-WZFB", "cm-hid-7kq9-mp42-wzfb", "CM HID 7KQ9 MP42 WZFB", "OPC-2024-XK7T9",
])
def test_malformed_ids_are_invalid(bad):
    assert not health_ids.is_valid(bad)


def test_normalise_of_none_is_empty():
    assert health_ids.normalise(None) == ""


def test_derive_is_a_pure_function_of_seed_and_normalised_demographics():
    first = health_ids.derive(42, "Marie", "Fouda", "1990-07-22", "CM")
    assert first == health_ids.derive(42, "  MARIE ", "fouda", "1990-07-22", "cm")
    assert first == "CM-HID-DTLM-H42E-WFYC"
    assert first != health_ids.derive(43, "Marie", "Fouda", "1990-07-22", "CM")
    assert first != health_ids.derive(42, "Marie", "Fouda", "1990-07-23", "CM")
    assert first != health_ids.derive(42, "Marie", "Fouda", "1990-07-22", "CM", attempt=1)


def test_derive_uses_the_country_of_the_request():
    assert health_ids.derive(42, "Ada", "Obi", "1980-01-01", "ng").startswith("NG-HID-")


def test_derived_and_generated_ids_always_pass_the_checksum():
    rng = random.Random(7)
    for seed in range(2000):
        country = rng.choice(("CM", "NG", "GA", "TD"))
        derived = health_ids.derive(seed, f"first{seed}", "last", "1990-01-01", country, attempt=seed % 3)
        generated = health_ids.generate(rng, country)
        assert health_ids.is_valid(derived), derived
        assert health_ids.is_valid(generated), generated
