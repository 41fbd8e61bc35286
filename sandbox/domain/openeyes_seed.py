"""Seeding the OpenEyes part of a world: API users, the documentation patients and a Faker en_GB population. No Flask.

The population has its own random stream (Faker seeded from the world seed and "openeyes"), so it
never shifts another part of the world. Names are Faker en_GB's lists and weights, drawn exactly as Faker
draws them (`random.choice` for a plain list, `random.choices` for a weighted one) from the same seeded
stream, but with the cumulative weights computed once instead of on every call: the same names, about
three times faster, and Faker's costly start-up (~0.1 s) is only paid when a world is really generated.
Dates hang off the world's anchor date (meta.anchor_date), never today. Generated patients get ids
from FIRST_GENERATED_ID up, unique 7-digit zero-padded Hospital Numbers and unique modulus-11-valid
NHS numbers; a few are deceased, deleted or merged into another.
"""

from __future__ import annotations

import functools
import itertools
import random
from datetime import date, timedelta

from . import nhs
from .openeyes import HOSPITAL_NUMBER, NHS_NUMBER, TITLES

FIRST_GENERATED_ID = 20001
HOSPITAL_NUMBERS = range(1, 10_000_000)
GENDERS = (("M", 48), ("F", 48), ("U", 2), ("O", 1), (None, 1))
GENDER_KEYS = [g for g, _ in GENDERS]
GENDER_CUMULATIVE = list(itertools.accumulate(w for _, w in GENDERS))
KEYS_BY_TITLE = {title: key for key, title in TITLES.items()}


def seed_openeyes(world, seed: int, patients: int, fixtures: dict) -> None:
    for user in fixtures["openeyes_users"]["users"]:
        world["openeyes_users"].insert(user)
    curated = fixtures["openeyes_patients"]
    for patient in curated["patients"]:
        world["openeyes_patients"].insert(_from_fixture(patient))
    reserved = tuple(curated.get("reserved_last_name_prefixes", ()))
    anchor = date.fromisoformat(world.meta["anchor_date"])
    for doc in generate_population(seed, patients, anchor, reserved):
        world["openeyes_patients"].insert(doc)


def _from_fixture(patient: dict) -> dict:
    identifiers = [{"type": KEYS_BY_TITLE[i["title"]], "value": i["value"]} for i in patient["patient_identifiers"]]
    return {"id": patient["id"], "title": patient.get("title"), "first_name": patient["first_name"],
            "last_name": patient["last_name"], "gender": patient.get("genderletter"), "dob": patient["dob"],
            "date_of_death": patient.get("date_of_death"), "deleted": False, "merged_into": None,
            "identifiers": identifiers, "source": "documentation"}


def generate_population(seed: int, size: int, anchor: date, reserved: tuple[str, ...] = ()) -> list[dict]:
    """`size` generated patients, the same for the same (seed, size, anchor) on every machine."""
    names = _names()
    rng = random.Random(f"{seed}:openeyes")  # what Faker("en_GB").seed_instance(f"{seed}:openeyes").random is
    hospital_numbers = rng.sample(HOSPITAL_NUMBERS, size)
    nhs_numbers: set[str] = set()
    population: list[dict] = []
    for index in range(size):
        doc = _person(names, rng, anchor, reserved)
        doc["id"] = FIRST_GENERATED_ID + index
        doc["identifiers"] = _identifiers(rng, hospital_numbers[index], nhs_numbers)
        doc["deleted"] = rng.random() < 0.02
        doc["merged_into"] = _merge_target(rng, population)
        population.append(doc)
    return population


class Names:
    """Faker en_GB's person data, drawn with the draws Faker's `random_element` makes."""

    def __init__(self, provider):
        self.last_names = tuple(provider.last_names)  # weighted (an OrderedDict name -> weight)
        self.last_cumulative = list(itertools.accumulate(provider.last_names.values()))
        self.first_female, self.first_male = tuple(provider.first_names_female), tuple(provider.first_names_male)
        self.prefix_female, self.prefix_male = tuple(provider.prefixes_female), tuple(provider.prefixes_male)

    def last_name(self, rng) -> str:
        return rng.choices(self.last_names, cum_weights=self.last_cumulative)[0]


@functools.cache
def _names() -> Names:
    from faker.providers.person.en_GB import Provider  # imported here: a cached template never needs Faker

    return Names(Provider)


def _person(names: Names, rng, anchor: date, reserved: tuple[str, ...]) -> dict:
    gender = rng.choices(GENDER_KEYS, cum_weights=GENDER_CUMULATIVE)[0]
    female = gender == "F" or (gender not in ("M", "F") and rng.random() < 0.5)
    last_name = names.last_name(rng)
    while last_name.lower().startswith(reserved):  # keeps the docs' `term=Smith` example exact
        last_name = names.last_name(rng)
    born = anchor - timedelta(days=rng.randint(0, 95 * 365))
    died = None
    if rng.random() < 0.06:
        died = (born + timedelta(days=rng.randint(0, (anchor - born).days))).isoformat()
    return {"title": rng.choice(names.prefix_female if female else names.prefix_male),
            "first_name": rng.choice(names.first_female if female else names.first_male),
            "last_name": last_name, "gender": gender, "dob": born.isoformat(), "date_of_death": died,
            "source": "seed"}


def _identifiers(rng, number: int, nhs_numbers: set[str]) -> list[dict]:
    """A Hospital Number (all but ~2%) and an NHS number (~85%, always when there is no Hospital Number)."""
    identifiers = []
    has_hospital_number = rng.random() >= 0.02
    if has_hospital_number:
        identifiers.append({"type": HOSPITAL_NUMBER, "value": f"{number:07d}"})
    if not has_hospital_number or rng.random() < 0.85:
        value = nhs.generate(rng)
        while value in nhs_numbers:
            value = nhs.generate(rng)
        nhs_numbers.add(value)
        identifiers.append({"type": NHS_NUMBER, "value": value})
    return identifiers


def _merge_target(rng, population: list[dict]) -> int | None:
    """~2% are merged away into an earlier patient that is itself neither deleted nor merged."""
    if not population or rng.random() >= 0.02:
        return None
    target = population[rng.randrange(len(population))]
    if target["deleted"] or target["merged_into"] is not None:
        return None
    return target["id"]
