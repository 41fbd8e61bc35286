"""The integration report's checks: would this client behave in production? Pure functions of what it did.

Each check reads the client's exchanges (runtime/exchanges.py) and its webhook deliveries, and answers
`pass`, `fail` or `not_exercised` (nothing to judge is never a pass) with a reason and the ids of the
requests or deliveries that show it. docs/report.md says why production needs each one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..domain import deliveries as delivery_log
from .exchanges import Exchange, ExchangeLog

TOKEN_ROUTE = "/api/v1/connect/auth/token"
PUSH_ROUTES = ("/api/v1/connect/records/encounters", "/api/v1/connect/records/lab-results")
RESOLVE_ROUTE = "/api/v1/connect/patients/resolve"
VERIFY_ROUTE = "/api/v1/connect/patients/verify/<health_id>"
RECORDS_ROUTE = "/api/v1/connect/patient/<health_id>/records"
GRANT_ROUTE = "/api/v1/connect/patient/<health_id>/consent/grant"
EARLY_REFRESH_S = 60  # asking for a token while the last one has more than this left is asking per call
IMMEDIATE_RETRY_MS = 250  # a retry sooner than this after a 5xx is no back-off at all
GIVE_UP_AFTER = 6  # consecutive failures of one endpoint a client may try before it must stop
ACK_DEADLINE_MS = 10_000  # the documented time a receiver has to answer


@dataclass
class Check:
    id: str
    title: str
    status: str = "not_exercised"
    why: str = ""
    evidence: list[str] = field(default_factory=list)

    def judge(self, failed: list[str], exercised: list[str], fail_why: str, pass_why: str) -> Check:
        if failed:
            self.status, self.why, self.evidence = "fail", fail_why, failed[:20]
        elif exercised:
            self.status, self.why, self.evidence = "pass", pass_why, exercised[:20]
        return self


def _api(exchanges: list[Exchange]) -> list[Exchange]:
    return [x for x in exchanges if x.route != TOKEN_ROUTE]


def token_reuse(xs: list[Exchange], _d) -> Check:
    check = Check("token_reuse", "Reuses a valid token instead of asking for one per call")
    held, wasted, asked = None, [], []
    for x in xs:
        if x.route == TOKEN_ROUTE and x.issued:
            if held and x.now is not None and held["exp"] - x.now > EARLY_REFRESH_S and not held.get("refused"):
                wasted.append(x.id)
            asked.append(x.id)
            held = dict(x.issued)
        elif held and x.jti == held["jti"] and x.error in ("token_expired", "token_invalid"):
            held["refused"] = True
    exercised = asked if len(_api(xs)) >= 2 else []
    failed = wasted if len(wasted) > 1 else []  # one early token (a restart, a second process) is forgiven
    return check.judge(failed, exercised,
                       f"asked for {len(wasted)} new tokens while the last had minutes left",
                       f"{len(asked)} token(s) served {len(_api(xs))} calls")


def token_refresh(xs: list[Exchange], _d) -> Check:
    check = Check("token_refresh", "After 401 token_expired, gets a new token and retries once, not in a loop")
    failed, exercised = [], []
    for i, x in enumerate(xs):
        if x.error != "token_expired":
            continue
        exercised.append(x.id)
        later = [y for y in xs[i + 1:] if y.route != TOKEN_ROUTE]
        again = [y for y in later[:3] if y.jti == x.jti]
        if again:
            failed += [x.id, again[0].id]
        retries = [y for y in later if y.route == x.route and y.method == x.method]
        if not retries:
            failed.append(x.id)  # gave up instead of renewing
    return check.judge(failed, exercised, "sent the expired token again, or never retried with a new one",
                       "renewed the token and retried")


def retry_after(xs: list[Exchange], _d) -> Check:
    check = Check("retry_after", "After a 429, waits Retry-After before calling that endpoint again")
    failed, exercised = [], []
    for i, x in enumerate(xs):
        if x.status != 429:
            continue
        exercised.append(x.id)
        until = x.at_ms + 1000 * (x.retry_after or 1)
        early = [y.id for y in xs[i + 1:] if y.route == x.route and y.at_ms < until]
        if early:
            failed += [x.id, *early]
    return check.judge(failed, exercised, "called the endpoint again before Retry-After elapsed",
                       "waited out Retry-After")


def backoff_on_5xx(xs: list[Exchange], _d) -> Check:
    check = Check("backoff_on_5xx", "After a 5xx, retries with growing gaps and gives up")
    failed, exercised = [], []
    for i, x in enumerate(xs):
        if x.status < 500 or (i and xs[i - 1].route == x.route and xs[i - 1].status >= 500):
            continue  # judge each run of failures once, from its first
        run = [x]
        for y in (y for y in xs[i + 1:] if y.route == x.route and y.method == x.method):
            run.append(y)
            if y.status < 500:
                break
        exercised.append(x.id)
        gaps = [b.at_ms - a.at_ms for a, b in zip(run, run[1:])]
        failures = sum(1 for r in run if r.status >= 500)
        if (gaps and gaps[0] < IMMEDIATE_RETRY_MS) or any(b <= a for a, b in zip(gaps, gaps[1:])) \
                or failures > GIVE_UP_AFTER:
            failed += [r.id for r in run]
    return check.judge(failed, exercised, "retried at once, at shrinking gaps, or without giving up",
                       "backed off with growing gaps")


def idempotency_keys(xs: list[Exchange], _d) -> Check:
    check = Check("idempotency_keys", "Every record push carries an Idempotency-Key, reused by its retries")
    pushes = [x for x in xs if x.route in PUSH_ROUTES and x.method == "POST"]
    failed = [x.id for x in pushes if not x.idempotency_key]
    keys: dict[str, set] = {}
    for x in pushes:
        if x.idempotency_key and x.body_sha256:
            keys.setdefault(x.body_sha256, set()).add(x.idempotency_key)
    failed += [x.id for x in pushes if x.body_sha256 in keys and len(keys[x.body_sha256]) > 1]
    return check.judge(sorted(set(failed)), [x.id for x in pushes],
                       "a push without a key, or a retried push under a new key (stored twice in production)",
                       "every push keyed; retries reuse their key")


def resolve_before_push(xs: list[Exchange], _d) -> Check:
    check = Check("resolve_before_push", "Pushes only for Health IDs it resolved or verified first")
    known, failed, exercised = set(), [], []
    for x in xs:
        if x.route in (RESOLVE_ROUTE, VERIFY_ROUTE) and x.status < 300:
            known.update(filter(None, (x.health_id, x.details.get("resolved"))))
        elif x.route in PUSH_ROUTES and x.method == "POST" and not x.fault:
            exercised.append(x.id)
            if x.health_id not in known:
                failed.append(x.id)
    return check.judge(failed, exercised, "pushed for a Health ID it never resolved or verified",
                       "resolved every patient before pushing")


def consent_handling(xs: list[Exchange], _d) -> Check:
    check = Check("consent_handling", "After 403 consent_required, does not read again until consent is granted")
    failed, exercised = [], []
    for i, x in enumerate(xs):
        if x.error != "consent_required":
            continue
        exercised.append(x.id)
        for y in xs[i + 1:]:
            if y.route == GRANT_ROUTE and y.health_id == x.health_id and y.status < 300:
                break
            if y.route == RECORDS_ROUTE and y.health_id == x.health_id:
                failed += [x.id, y.id]
                break
    return check.judge(failed, exercised, "read the records again without a new consent",
                       "asked for consent before reading again")


def match_conflict(xs: list[Exchange], _d) -> Check:
    check = Check("match_conflict", "After 409 multiple_patient_matches, does not create or guess")
    failed, exercised = [], []
    for i, x in enumerate(xs):
        if x.error != "multiple_patient_matches":
            continue
        exercised.append(x.id)
        name, candidates = x.details.get("name"), set(x.details.get("candidates") or ())
        for y in xs[i + 1:]:
            guessed = y.health_id in candidates
            created = y.route == RESOLVE_ROUTE and y.status == 201 and y.details.get("name") == name
            if guessed or created:
                failed += [x.id, y.id]
    return check.judge(failed, exercised, "picked a candidate or registered a near-duplicate patient",
                       "stopped for a person to decide")


def resolve_purpose(xs: list[Exchange], _d) -> Check:
    check = Check("resolve_purpose", "Sends purpose and external_reference on resolve (the audit trail needs them)")
    resolves = [x for x in xs if x.route == RESOLVE_ROUTE and x.method == "POST"]
    failed = [x.id for x in resolves if not (x.details.get("purpose") and x.details.get("external_reference"))]
    return check.judge(failed, [x.id for x in resolves], "resolved without purpose or external_reference",
                       "every resolve says why and for which local record")


def least_privilege(xs: list[Exchange], _d) -> Check:
    check = Check("least_privilege", "Its tokens carry only the scopes of the endpoints it calls")
    used = [x for x in _api(xs) if x.jti]
    needed = {scope for x in used for scope in x.required_scopes}
    held = {scope for x in used for scope in x.scopes}
    extra = sorted(held - needed)
    failed = [x.id for x in used if set(x.scopes) - needed]
    return check.judge(failed, [x.id for x in used],
                       f"tokens carry scopes no call needed: {', '.join(extra)} (ask for `scope` on the token request)",
                       "asked only for the scopes it uses")


def webhook_ack(_xs, deliveries: list[dict]) -> Check:
    check = Check("webhook_ack", "Answers valid deliveries with a 2xx within 10 s")
    attempts = [(d, a) for d in deliveries if not d.get("probe") for a in d["attempts"]]
    failed = [d["delivery_id"] for d, a in attempts
              if not (a.get("status_code") and 200 <= a["status_code"] < 300 and a["latency_ms"] <= ACK_DEADLINE_MS)]
    return check.judge(sorted(set(failed)), [d["delivery_id"] for d, _ in attempts],
                       "a valid delivery was not answered 2xx within 10 s", "acknowledged every valid delivery")


def webhook_signature(_xs, deliveries: list[dict]) -> Check:
    check = Check("webhook_signature", "Rejects bad signatures and stale timestamps (4xx), accepts good ones")
    probes = [d for d in deliveries if d.get("probe") and d["attempts"]]
    failed = []
    for d in probes:
        code = d["attempts"][-1].get("status_code")
        if not (code and 400 <= code < 500):
            failed.append(d["delivery_id"])
    good = [d for d in deliveries if not d.get("probe") and d["attempts"]]
    if probes and good and not any(200 <= (a.get("status_code") or 0) < 300 for d in good for a in d["attempts"]):
        failed.append(good[0]["delivery_id"])
    return check.judge(failed, [d["delivery_id"] for d in probes],
                       "accepted a forged or stale delivery, or refused a good one",
                       "refused every probe, accepted the real deliveries")


CHECKS: tuple[Callable[[list[Exchange], list[dict]], Check], ...] = (
    token_reuse, token_refresh, retry_after, backoff_on_5xx, idempotency_keys, resolve_before_push,
    consent_handling, match_conflict, resolve_purpose, least_privilege, webhook_ack, webhook_signature)


def grade(exchanges: list[Exchange], deliveries: list[dict]) -> list[Check]:
    return [check(exchanges, deliveries) for check in CHECKS]


def report(log: ExchangeLog, world, tenant: str, client_id: str | None = None) -> dict:
    """GET /sandbox/report's body: `client_id` (default: the busiest client), its window, checks and summary."""
    client_id = client_id or log.busiest(tenant)
    exchanges = log.of(tenant, client_id) if client_id else []
    sent = [delivery_log.describe(doc) | {"probe": doc.get("probe")}
            for doc in world["deliveries"].all() if client_id and doc.get("client_id") == client_id]
    checks = grade(exchanges, sent)
    return {"client_id": client_id,
            "window": {"from": exchanges[0].at if exchanges else None, "to": exchanges[-1].at if exchanges else None},
            "checks": [vars(check) for check in checks],
            "summary": {status: sum(1 for c in checks if c.status == status) for status in ("pass", "fail", "not_exercised")}}


def failures(body: dict) -> str:
    """The failing checks of a report, one line each with its reason (for assertion messages and the CLI)."""
    return "\n".join(f"- {c['id']}: {c['why']} (evidence: {', '.join(c['evidence'][:5])})"
                     for c in body["checks"] if c["status"] == "fail")
