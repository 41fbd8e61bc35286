"""What a test sent, from the request journal: `requests()` filters, `assert_requested()`, the failure report.

Entries are the journal's (GET /sandbox/requests): method, path, query, status, client_id, duration_ms,
request and response bodies as text (secrets redacted, cut at 2 KB). Here they run oldest first, the
order the test made them. Nothing here imports Flask.
"""

from __future__ import annotations

import difflib
import json

REPORT_BODY = 600  # characters of each body in a failure report
NEAR_MISSES = 5
ANY = object()


def path_matches(entry: dict, wanted: str) -> bool:
    """Exact, or a prefix when `wanted` ends with `*` (`/api/v1/connect/patient/*`); with a `?`, the query too."""
    actual = entry["path"] + (f"?{entry.get('query')}" if "?" in wanted and entry.get("query") else "")
    return actual.startswith(wanted[:-1]) if wanted.endswith("*") else actual == wanted


def select(entries: list[dict], method: str | None = None, path: str | None = None,
           status: int | None = None) -> list[dict]:
    return [e for e in entries if (method is None or e["method"] == method.upper())
            and (path is None or path_matches(e, path)) and (status is None or e["status"] == status)]


def json_body(entry: dict):
    """The request body parsed as JSON, or `ANY` when there is none or it is not JSON."""
    text = entry.get("request_body")
    try:
        return ANY if text is None else json.loads(text)
    except ValueError:
        return ANY


def assert_requested(entries: list[dict], method: str, path: str, times: int | None = None, json=ANY) -> list[dict]:
    """The matching entries; AssertionError listing the near misses unless there were `times` (None: at least one)."""
    method = method.upper()
    same = select(entries, method, path)
    hits = same if json is ANY else [e for e in same if json_body(e) == json]
    if (len(hits) >= 1) if times is None else (len(hits) == times):
        return hits
    wanted = f"{method} {path}" + ("" if json is ANY else f" with json={_short(json_dumps(json), 200)}")
    expected = "at least once" if times is None else f"{times} time{'s' * (times != 1)}"
    lines = [f"expected {wanted} {expected}, it was requested {len(hits)} time{'s' * (len(hits) != 1)} "
             f"(of {len(entries)} request{'s' * (len(entries) != 1)} in this test)"]
    if hits and times is not None:
        lines.append("matching:")
        lines += [f"  {describe(e)}" for e in hits]
    misses = near_misses(entries, method, path, json, exclude=hits)
    if misses:
        lines.append("near misses:")
        lines += [f"  {describe(e)}: {why}" for why, e in misses]
    elif not hits:
        lines.append("no request came close; this test sent: " + (
            ", ".join(f"{e['method']} {e['path']}" for e in entries[:10]) or "nothing"))
    raise AssertionError("\n".join(lines))


def near_misses(entries: list[dict], method: str, path: str, wanted_json, exclude=()) -> list[tuple[str, dict]]:
    """Entries that differ from the wanted request in one respect, closest first."""
    scored = []
    for index, entry in enumerate(entries):
        if any(entry is e for e in exclude):
            continue
        same_path = path_matches(entry, path)
        if same_path and entry["method"] == method:
            score, why = 3, f"json differs: {_short(entry.get('request_body') or 'no body', 200)}"
        elif same_path:
            score, why = 2, f"method {entry['method']}, not {method}"
        else:
            ratio = difflib.SequenceMatcher(None, entry["path"], path.rstrip("*")).ratio()
            if ratio < 0.75:
                continue
            score, why = ratio, f"path differs ({entry['path']} vs {path})"
            if entry["method"] != method:
                score, why = score - 0.5, f"{why}, method {entry['method']}"
        scored.append((-score, index, why, entry))
    scored.sort(key=lambda item: item[:2])
    return [(why, entry) for _, _, why, entry in scored[:NEAR_MISSES]]


def describe(entry: dict) -> str:
    query = f"?{entry['query']}" if entry.get("query") else ""
    return f"{entry['method']} {entry['path']}{query} -> {entry['status']}"


def exchange_text(journals: dict[str, list[dict]], events: dict[str, list[dict]]) -> str:
    """The failure report's section: per tenant, each request with its bodies, then each event and its deliveries."""
    lines = []
    for tenant in sorted(set(journals) | set(events)):
        entries, tenant_events = journals.get(tenant, []), events.get(tenant, [])
        if not entries and not tenant_events:
            continue
        lines.append(f"tenant {tenant}: {len(entries)} request{'s' * (len(entries) != 1)}, "
                     f"{len(tenant_events)} event{'s' * (len(tenant_events) != 1)}")
        for entry in entries:
            lines.append(f"  {describe(entry)} ({entry.get('duration_ms', 0):g} ms)")
            for label, key in (("request ", "request_body"), ("response", "response_body")):
                if entry.get(key):
                    lines.append(f"      {label}: {_short(entry[key], REPORT_BODY)}")
        for event in tenant_events:
            lines.append(f"  event {event['id']} {event['type']} at {event['created_at']}: "
                         f"data {_short(json_dumps(event.get('data') or {}), 200)}")
            for delivery in event.get("deliveries", []):
                lines.append(f"      delivery to {delivery['url']}: {delivery['status']}, "
                             f"{delivery['attempt_count']} attempt{'s' * (delivery['attempt_count'] != 1)}"
                             + _last_attempt(delivery))
            if not event.get("deliveries"):
                lines.append("      no subscription wanted it")
    return "\n".join(lines) or "no requests and no events in this test"


def _last_attempt(delivery: dict) -> str:
    if not delivery["attempts"]:
        return ""
    last = delivery["attempts"][-1]
    return f" (last: {last['error'] or last['status_code']}, {last['latency_ms']:g} ms)"


def json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more]"
