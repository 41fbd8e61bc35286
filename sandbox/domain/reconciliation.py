"""Daily payment reconciliation: each (seed, facility, date) is a pure function, computed on demand, never stored. No Flask.

A day has one to three cashier sessions; each session's expected cash and expected digital amounts are
the sums of its *confirmed* payments (cash; MTN MoMo, Orange Money, card and insurance are "digital").
On about one day in six, and on every magic date of `fixtures/reconciliation.json`, one session closes
with a discrepancy and a note. Every variance is actual − expected (negative: money missing), and the
summary is the exact sum of the sessions. Nothing here reads the clock except the default date.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from . import clock
from .lookup import facility_or_404

CURRENCY = "XAF"
DISCREPANCY_RATE = 0.17
METHODS = (("cash", 40), ("mtn_momo", 25), ("orange_money", 18), ("card", 5), ("insurance", 12))
MOBILE_MONEY = {"mtn_momo": ("MTN MoMo", "+23767"), "orange_money": ("Orange Money", "+23769")}
# Per facility type: cashier sessions a day, payments a session, and (low, high, step) price bands in XAF.
PROFILES = {
    "hospital": {"sessions": (2, 3), "payments": (8, 18), "prices": (
        (2_000, 15_000, 500), (1_500, 25_000, 500), (10_000, 60_000, 1_000), (500, 20_000, 25),
        (25_000, 150_000, 5_000))},
    "clinic": {"sessions": (1, 2), "payments": (5, 12), "prices": (
        (2_000, 10_000, 500), (1_500, 15_000, 500), (500, 15_000, 25), (2_500, 20_000, 500))},
    "pharmacy": {"sessions": (1, 2), "payments": (10, 22), "prices": ((300, 25_000, 25),)},
    "laboratory": {"sessions": (1, 1), "payments": (4, 10), "prices": ((2_000, 35_000, 500),)},
}
SHIFT_START_HOUR, SHIFT_HOURS = 6, 13  # 07:00-20:00 in Cameroon (UTC+1), written in UTC


def reconciliation(world, facility_id: str, day: date | None = None) -> dict:
    """The reconciliation of the facility for `day` (default: today on the sandbox clock)."""
    facility = facility_or_404(world, facility_id)
    day = day or clock.today(world)
    magic = set(world.meta.get("reconciliation_discrepancy_dates") or ())
    return daily_reconciliation(world.meta.get("seed"), facility, day, day.isoformat() in magic)


def daily_reconciliation(seed, facility: dict, day: date, forced_discrepancy: bool = False) -> dict:
    """A pure function of (seed, facility, day): the same arguments always give the same document."""
    rng = random.Random(f"{seed}:reconciliation:{facility['facility_id']}:{day.isoformat()}")
    profile = PROFILES.get(facility.get("type"), PROFILES["clinic"])
    sessions = rng.randint(*profile["sessions"])
    discrepant = rng.random() < DISCREPANCY_RATE or forced_discrepancy
    odd_one = rng.randrange(sessions) if discrepant else None
    code = f"{day:%Y%m%d}-{facility['facility_id'][-4:]}"
    records = [_session(rng, profile, day, code, number, sessions, number == odd_one) for number in range(sessions)]
    expected = sum(r["expected_cash"] + r["expected_digital"] for r in records)
    actual = sum(r["actual_cash"] + r["actual_digital"] for r in records)
    status = "discrepancy" if any(r["status"] == "discrepancy" for r in records) else "balanced"
    return {"date": day.isoformat(), "facility_id": facility["facility_id"], "currency": CURRENCY,
            "summary": {"expected_total": expected, "actual_total": actual, "variance": actual - expected,
                        "status": status},
            "records": records}


def _session(rng, profile: dict, day: date, code: str, number: int, sessions: int, discrepant: bool) -> dict:
    start = datetime(day.year, day.month, day.day, SHIFT_START_HOUR, tzinfo=UTC)
    length = SHIFT_HOURS * 3600 // sessions
    offsets = sorted(rng.randrange(length) for _ in range(rng.randint(*profile["payments"])))
    payments = [_payment(rng, profile, f"PAY-{code}-{number + 1}{i + 1:03d}", start + timedelta(seconds=number * length + o))
                for i, o in enumerate(offsets)]
    confirmed = [p for p in payments if p["status"] == "confirmed"]
    expected_cash = sum(p["amount"] for p in confirmed if p["method"] == "cash")
    expected_digital = sum(p["amount"] for p in confirmed if p["method"] != "cash")
    actual_cash, actual_digital, notes = expected_cash, expected_digital, None
    if discrepant:
        actual_cash, actual_digital, notes = _discrepancy(rng, expected_cash, expected_digital, confirmed)
    variance = actual_cash + actual_digital - expected_cash - expected_digital
    return {"reconciliation_id": f"RCN-{code}-{number + 1:02d}", "cashier_session_id": f"CSH-{code}-{number + 1:02d}",
            "expected_cash": expected_cash, "actual_cash": actual_cash, "expected_digital": expected_digital,
            "actual_digital": actual_digital, "variance": variance,
            "status": "discrepancy" if variance else "balanced", "notes": notes, "payments": payments}


def _payment(rng, profile: dict, reference: str, moment: datetime) -> dict:
    methods, weights = zip(*METHODS)
    method = rng.choices(methods, weights)[0]
    low, high, step = rng.choice(profile["prices"])
    amount = rng.randint(low // step, high // step) * step
    status = "confirmed"
    if method != "cash" and rng.random() < 0.06:
        status = "pending" if method == "insurance" else "failed"
    phone = f"{MOBILE_MONEY[method][1]}{rng.randint(0, 9_999_999):07d}" if method in MOBILE_MONEY else None
    return {"payment_reference": reference, "method": method, "amount": amount, "currency": CURRENCY,
            "status": status, "payer_phone": phone,
            "confirmed_at": clock.isoformat(moment) if status == "confirmed" else None}


def _discrepancy(rng, expected_cash: int, expected_digital: int, confirmed: list[dict]) -> tuple[int, int, str]:
    """(actual cash, actual digital, note) of a session that does not balance; never a zero variance."""
    kind = rng.choice(("cash_short", "cash_short", "cash_over", "unsettled"))
    mobile = [p for p in confirmed if p["method"] in MOBILE_MONEY]
    if kind == "unsettled" and mobile:
        payment = rng.choice(mobile)
        label = MOBILE_MONEY[payment["method"]][0]
        return expected_cash, expected_digital - payment["amount"], (
            f"{label} payment {payment['payment_reference']} ({payment['amount']:,} XAF) confirmed at the till "
            f"but not yet settled by the operator; ticket opened")
    shortfalls = [a for a in (500, 1_000, 1_500, 2_000, 2_500, 5_000, 10_000) if a <= expected_cash]
    if kind != "cash_over" and shortfalls:
        short = rng.choice(shortfalls)
        return expected_cash - short, expected_digital, f"Cash short by {short:,} XAF at close; cashier recount pending"
    over = rng.choice((100, 250, 500, 1_000, 2_000))
    return expected_cash + over, expected_digital, (
        f"Cash over by {over:,} XAF at close; unrecorded payment suspected, under review")


def seed_reconciliation(world, seed: int, patients: int, fixtures: dict) -> None:
    """Keep the magic discrepancy dates in the world, so a day's answer needs nothing but the world."""
    dates = sorted(fixtures.get("reconciliation", {}).get("discrepancy_dates", ()))
    world.set_meta(reconciliation_discrepancy_dates=dates)
