"""Clinical code tables: real ICD-10 conditions, the drugs that treat them, LOINC lab tests and their reference ranges.

The seeded medical histories (`seeded_records.py`) draw only from these tables, so every code,
drug name, unit and reference range a client sees comes from here, and the tests can check them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A band of generated values: (weight, low, high). A lab spec is a tuple of bands, or ABNORMAL for a
# qualitative test whose result is the abnormal one.
ABNORMAL = "abnormal"


@dataclass(frozen=True)
class Drug:
    name: str
    dose: str
    frequency: str
    route: str
    duration_days: int
    quantity: int
    allergen: str | None = None  # an allergy (as in patients' `allergies`) that rules this drug out
    min_age: int = 0
    max_age: int = 200

    def item(self) -> dict:
        return {"drug_name": self.name, "dose": self.dose, "frequency": self.frequency, "route": self.route,
                "duration_days": self.duration_days, "quantity": self.quantity}


@dataclass(frozen=True)
class LabTest:
    loinc: str
    name: str
    unit: str | None
    low: float | None = None  # None: no lower limit ("<high")
    high: float | None = None  # None: no upper limit (">low")
    decimals: int = 1
    healthy: tuple = ()  # bands for a patient without a condition that moves this test
    critical_low: float | None = None
    critical_high: float | None = None
    results: tuple[str, str] | None = None  # qualitative tests: (normal result, abnormal result)

    @property
    def reference_range(self) -> str:
        if self.results:
            return self.results[0]
        if self.low is None:
            return f"<{self._fmt(self.high)}"
        if self.high is None:
            return f">{self._fmt(self.low)}"
        return f"{self._fmt(self.low)}-{self._fmt(self.high)}"

    def _fmt(self, number: float) -> str:
        return f"{number:.{self.decimals}f}"

    def flag(self, value) -> str:
        """normal / low / high, or critical beyond the critical limits; normal / abnormal for text results."""
        if self.results:
            return "normal" if value == self.results[0] else "abnormal"
        if (self.critical_low is not None and value < self.critical_low) or \
                (self.critical_high is not None and value >= self.critical_high):
            return "critical"
        if self.low is not None and (value < self.low if self.high is not None else value <= self.low):
            return "low"
        if self.high is not None and (value > self.high if self.low is not None else value >= self.high):
            return "high"
        return "normal"


@dataclass(frozen=True)
class Condition:
    code: str
    display: str
    chronic: bool
    weight: float  # relative prevalence among the seeded population
    regimen: tuple  # slots of alternative Drugs, in order of preference
    labs: dict = field(default_factory=dict)  # loinc -> bands or ABNORMAL, at the encounters of this condition
    vitals: dict = field(default_factory=dict)  # vitals field -> (low, high), pushing away from the baseline
    min_age: int = 0
    max_age: int = 120
    sex: str | None = None
    male_factor: float = 1.0  # prevalence multiplier for men (e.g. urinary tract infections)
    excludes: tuple[str, ...] = ()


def _lab(loinc, name, unit, low, high, decimals, healthy, critical_low=None, critical_high=None):
    return LabTest(loinc, name, unit, low, high, decimals, healthy, critical_low, critical_high)


def _qualitative(loinc, name, normal, abnormal):
    return LabTest(loinc, name, None, decimals=0, results=(normal, abnormal))


LAB_TESTS: dict[str, LabTest] = {t.loinc: t for t in (
    _lab("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12.0, 17.5, 1, ((1, 12.4, 16.2),), critical_low=7.0),
    _lab("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 4.0, 11.0, 1,
         ((1, 4.5, 9.8),), critical_low=1.0, critical_high=30.0),
    _lab("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 150, 400, 0,
         ((1, 170, 380),), critical_low=20),
    _lab("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 70, 99, 0, ((9, 72, 99), (1, 100, 112)),
         critical_low=40, critical_high=400),
    _lab("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4.0, 5.6, 1, ((9, 4.5, 5.6), (1, 5.7, 6.2))),
    _lab("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.6, 1.2, 2, ((1, 0.62, 1.15),),
         critical_high=5.0),
    _lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.5, 5.1, 1, ((1, 3.6, 4.9),),
         critical_low=2.8, critical_high=6.2),
    _lab("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", None, 200, 0, ((1, 140, 199),)),
    _lab("2089-1", "Cholesterol in LDL [Mass/volume] in Serum or Plasma", "mg/dL", None, 100, 0, ((1, 60, 99),)),
    _lab("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", None, 150, 0, ((1, 60, 149),)),
    _lab("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L", 0.4, 4.0, 2, ((1, 0.6, 3.8),)),
    _lab("20447-9", "HIV 1 RNA [#/volume] (viral load) in Serum or Plasma by NAA with probe detection",
         "{copies}/mL", None, 50, 0, ((1, 20, 49),), critical_high=1000),
    _lab("24467-3", "CD3+CD4+ (T4 helper) cells [#/volume] in Blood", "/uL", 500, 1500, 0, ((1, 550, 1400),),
         critical_low=200),
    _lab("4537-7", "Erythrocyte sedimentation rate by Westergren method", "mm/h", 0, 20, 0, ((1, 2, 18),)),
    _lab("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", None, 10, 1, ((1, 0.5, 6.0),)),
    _lab("5821-4", "Leukocytes [#/area] in Urine sediment by Microscopy high power field", "/[HPF]", 0, 5, 0,
         ((1, 0, 4),)),
    _qualitative("32700-7", "Plasmodium sp identified in Blood by Light microscopy", "Not detected",
                 "Plasmodium falciparum detected"),
    _qualitative("11545-1", "Microscopic observation [Identifier] in Sputum by Acid fast stain",
                 "No acid-fast bacilli seen", "Acid-fast bacilli seen"),
    _qualitative("5802-4", "Nitrite [Presence] in Urine by Test strip", "Negative", "Positive"),
)}

# Labs of a routine check-up (children skip the chemistry).
ROUTINE_LABS = ("718-7", "6690-2", "777-3", "2345-7", "2160-0")
ROUTINE_LABS_CHILD = ("718-7", "6690-2", "777-3")

PARACETAMOL = (Drug("paracetamol 500 mg tablet", "2 tablets", "three times daily", "oral", 3, 18, min_age=12),
               Drug("paracetamol 120 mg/5 mL oral suspension", "10 mL", "three times daily", "oral", 3, 1, max_age=11))

CONDITIONS: dict[str, Condition] = {c.code: c for c in (
    Condition("B54", "Unspecified malaria", False, 18, (
        (Drug("artemether-lumefantrine 20/120 mg tablet", "4 tablets", "twice daily", "oral", 3, 24, min_age=12),
         Drug("artemether-lumefantrine 20/120 mg dispersible tablet", "2 tablets", "twice daily", "oral", 3, 12,
              max_age=11)),
        PARACETAMOL),
        labs={"32700-7": ABNORMAL, "718-7": ((1, 9.0, 12.2),), "777-3": ((1, 60, 145),)},
        vitals={"temperature_c": (38.2, 40.0), "pulse": (96, 126)}),
    Condition("I10", "Essential (primary) hypertension", True, 14, (
        (Drug("amlodipine 5 mg tablet", "1 tablet", "once daily", "oral", 30, 30),),
        (Drug("hydrochlorothiazide 25 mg tablet", "1 tablet", "once daily", "oral", 30, 30),)),
        labs={"2160-0": ((1, 0.7, 1.5),), "2823-3": ((1, 3.3, 4.8),)},
        vitals={"systolic_bp": (142, 178), "diastolic_bp": (90, 108)}, min_age=30),
    Condition("E11.9", "Type 2 diabetes mellitus without complications", True, 9, (
        (Drug("metformin 500 mg tablet", "1 tablet", "twice daily", "oral", 30, 60),),
        (Drug("glibenclamide 5 mg tablet", "1 tablet", "once daily", "oral", 30, 30),)),
        labs={"4548-4": ((1, 6.8, 11.5),), "2345-7": ((1, 130, 320),), "2160-0": ((1, 0.7, 1.4),)},
        min_age=30, excludes=("O24.4",)),
    Condition("E78.5", "Hyperlipidemia, unspecified", True, 6, (
        (Drug("atorvastatin 20 mg tablet", "1 tablet", "once daily at night", "oral", 30, 30),),),
        labs={"2093-3": ((1, 212, 290),), "2089-1": ((1, 132, 200),), "2571-8": ((1, 152, 320),)}, min_age=35),
    Condition("J45.909", "Unspecified asthma, uncomplicated", True, 6, (
        (Drug("salbutamol 100 mcg/dose inhaler", "2 puffs", "as needed", "inhalation", 30, 1),),
        (Drug("beclometasone 100 mcg/dose inhaler", "2 puffs", "twice daily", "inhalation", 30, 1),)),
        vitals={"respiratory_rate": (18, 24), "spo2": (93, 97)}, min_age=3),
    Condition("D57.1", "Sickle-cell disease without crisis", True, 2, (
        (Drug("hydroxyurea 500 mg capsule", "1 capsule", "once daily", "oral", 30, 30, min_age=12),
         Drug("hydroxyurea 100 mg/mL oral solution", "3 mL", "once daily", "oral", 30, 1, min_age=2, max_age=11)),
        (Drug("folic acid 5 mg tablet", "1 tablet", "once daily", "oral", 30, 30),)),
        labs={"718-7": ((1, 6.2, 9.5),), "6690-2": ((1, 9.0, 16.0),)}, min_age=1),
    Condition("B20", "Human immunodeficiency virus [HIV] disease", True, 4, (
        (Drug("tenofovir/lamivudine/dolutegravir 300/300/50 mg tablet", "1 tablet", "once daily", "oral", 30, 30),),
        (Drug("cotrimoxazole 960 mg tablet", "1 tablet", "once daily", "oral", 30, 30, allergen="Sulfonamides"),
         Drug("dapsone 100 mg tablet", "1 tablet", "once daily", "oral", 30, 30))),
        labs={"20447-9": ((3, 20, 49), (1, 1000, 85000)), "24467-3": ((1, 160, 720),)}, min_age=15),
    Condition("A15.0", "Tuberculosis of lung, confirmed by sputum microscopy", False, 3, (
        (Drug("rifampicin/isoniazid/pyrazinamide/ethambutol 150/75/400/275 mg tablet", "4 tablets", "once daily",
              "oral", 56, 224),),
        (Drug("rifampicin/isoniazid 150/75 mg tablet", "4 tablets", "once daily", "oral", 112, 448),)),
        labs={"11545-1": ABNORMAL, "4537-7": ((1, 40, 100),)},
        vitals={"temperature_c": (37.6, 38.6), "pulse": (90, 110)}, min_age=15),
    Condition("N39.0", "Urinary tract infection, site not specified", False, 7, (
        (Drug("nitrofurantoin 100 mg capsule", "1 capsule", "twice daily", "oral", 5, 10),),),
        labs={"5802-4": ABNORMAL, "5821-4": ((1, 15, 60),)}, vitals={"temperature_c": (37.2, 38.3)},
        min_age=15, male_factor=0.25),
    Condition("J18.9", "Pneumonia, unspecified organism", False, 6, (
        (Drug("amoxicillin 500 mg capsule", "2 capsules", "three times daily", "oral", 5, 30, allergen="Penicillin",
              min_age=12),
         Drug("amoxicillin 250 mg dispersible tablet", "2 tablets", "twice daily", "oral", 5, 20,
              allergen="Penicillin", max_age=11),
         Drug("azithromycin 500 mg tablet", "1 tablet", "once daily", "oral", 3, 3, min_age=12),
         Drug("azithromycin 200 mg/5 mL oral suspension", "5 mL", "once daily", "oral", 3, 1, max_age=11)),
        PARACETAMOL),
        labs={"6690-2": ((1, 12.5, 22.0),), "1988-5": ((1, 40, 180),)},
        vitals={"temperature_c": (38.0, 39.6), "respiratory_rate": (24, 32), "spo2": (90, 94),
                "pulse": (100, 126)}),
    Condition("K29.70", "Gastritis, unspecified, without bleeding", False, 6, (
        (Drug("omeprazole 20 mg capsule", "1 capsule", "once daily", "oral", 28, 28),),), min_age=15),
    Condition("O24.4", "Diabetes mellitus arising in pregnancy", False, 2, (
        (Drug("metformin 500 mg tablet", "1 tablet", "twice daily", "oral", 30, 60),),),
        labs={"2345-7": ((1, 100, 150),)}, min_age=18, max_age=42, sex="female", excludes=("E11.9",)),
    Condition("E03.9", "Hypothyroidism, unspecified", True, 3, (
        (Drug("levothyroxine 50 mcg tablet", "1 tablet", "once daily", "oral", 30, 30),),),
        labs={"3016-3": ((1, 4.6, 12.0),)}, min_age=20, male_factor=0.2),
    Condition("A09", "Infectious gastroenteritis and colitis, unspecified", False, 5, (
        (Drug("oral rehydration salts sachet", "1 sachet in 1 L of water", "after each loose stool", "oral", 3, 6),),
        (Drug("zinc sulfate 20 mg dispersible tablet", "1 tablet", "once daily", "oral", 10, 10, max_age=5),)),
        vitals={"temperature_c": (37.2, 38.4), "pulse": (90, 115)}),
    Condition("A01.0", "Typhoid fever", False, 3, (
        (Drug("ciprofloxacin 500 mg tablet", "1 tablet", "twice daily", "oral", 7, 14, min_age=12),
         Drug("azithromycin 200 mg/5 mL oral suspension", "10 mL", "once daily", "oral", 7, 2, max_age=11)),
        PARACETAMOL),
        labs={"6690-2": ((1, 3.0, 5.5),)}, vitals={"temperature_c": (38.5, 40.0)}, min_age=2),
)}

DRUG_NAMES = frozenset(d.name for c in CONDITIONS.values() for slot in c.regimen for d in slot)

# The documentation patients' histories, so the docs' examples show records worth reading.
DOCUMENTATION_CONDITIONS = {
    "OPC-2024-DEMO1": ("E11.9", "I10", "B54"),
    "CM-HID-7KQ9-MP42-X8D1": ("J45.909", "N39.0"),
    "OPC-2024-XK7T9": ("J18.9", "E78.5"),  # penicillin-allergic: his pneumonia gets azithromycin
}

# Vitals a condition moves, and which way (a fever raises temperature; pneumonia lowers SpO2).
RAISED = ("temperature_c", "pulse", "respiratory_rate", "systolic_bp", "diastolic_bp")
LOWERED = ("spo2",)


def eligible(condition: Condition, age: float, sex: str) -> bool:
    return condition.min_age <= age <= condition.max_age and condition.sex in (None, sex)


def pick_drug(slot: tuple, age: float, allergies: list[str]) -> Drug | None:
    """The first alternative that suits the patient's age and allergies (None: nothing in this slot suits)."""
    for drug in slot:
        if drug.min_age <= age <= drug.max_age and drug.allergen not in allergies:
            return drug
    return None


_NUMBER = r"(\d+(?:\.\d+)?)"
_RANGE = re.compile(rf"^\s*(?:{_NUMBER}\s*-\s*{_NUMBER}|<\s*{_NUMBER}|>\s*{_NUMBER})\s*$")


def flag_against_range(value, reference_range) -> str | None:
    """normal / low / high of a numeric value against "a-b", "<b" or ">a"; None when either cannot be read."""
    if isinstance(value, bool) or not isinstance(reference_range, str):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    match = _RANGE.match(reference_range)
    if match is None:
        return None
    low, high, below, above = (float(g) if g is not None else None for g in match.groups())
    if below is not None:
        return "normal" if number < below else "high"
    if above is not None:
        return "normal" if number > above else "low"
    return "low" if number < low else "high" if number > high else "normal"
