"""Seeding: the same seed gives byte-identical worlds; curated documentation data is always there."""

from __future__ import annotations

from opescare_sandbox.domain import health_ids
from opescare_sandbox.domain.seed import build_world

FIXTURES = "fixtures"


def test_same_seed_builds_byte_identical_worlds():
    assert build_world(42, 150, FIXTURES).export_json() == build_world(42, 150, FIXTURES).export_json()


def test_different_seeds_build_different_worlds():
    assert build_world(42, 150, FIXTURES).export_json() != build_world(43, 150, FIXTURES).export_json()


def test_population_size_and_valid_unique_health_ids():
    world = build_world(42, 300, FIXTURES)
    generated = [p for p in world["patients"].all() if p["source"] == "seed"]
    assert len(generated) == 300
    assert all(health_ids.is_valid(p["health_id"]) for p in generated)
    assert len({p["health_id"] for p in world["patients"].all()}) == len(world["patients"])


def test_documentation_patients_exist_whatever_the_seed():
    for seed in (1, 42, 99):
        world = build_world(seed, 10, FIXTURES)
        amara = world["patients"].first("health_id", "CM-HID-7KQ9-MP42-X8D1")
        assert (amara["first_name"], amara["last_name"], amara["date_of_birth"]) == ("Amara", "Ngo", "1990-04-15")
        assert world["patients"].first("health_id", "OPC-2024-XK7T9")["last_name"] == "Dupont"
        assert world["patients"].first("health_id", "OPC-2024-DEMO1") is not None


def test_marie_fouda_is_never_pre_registered():
    world = build_world(42, 2000, FIXTURES)
    assert world["patients"].find("match_key", ("marie", "fouda", "1990-07-22", "CM")) == []


def test_clients_store_only_a_hash_of_their_secret():
    world = build_world(42, 10, FIXTURES)
    demo = world["clients"].first("client_id", "demo_dev_sandbox")
    assert "client_secret" not in demo and len(demo["secret_sha256"]) == 64
    assert "demo_secret_sandbox_2026" not in world.export_json()


def test_generated_phone_numbers_are_cameroonian_mobiles():
    world = build_world(42, 100, FIXTURES)
    phones = [p["phone_number"] for p in world["patients"].all() if p["source"] == "seed"]
    assert all(p.startswith("+2376") and len(p) == 13 for p in phones)
