"""After every request: its entry in the tenant's request journal, and the exchange the report grades.

The journal (GET /sandbox/requests) is a debugging aid, so a failure here is logged, never the request's.
"""

from __future__ import annotations

import logging
import time

from ..domain import clock
from ..storage.journal import body_excerpt, query_excerpt
from .context import CONTROLS_PREFIX, current, world
from .exchanges import record_exchange

log = logging.getLogger(__name__)

UNJOURNALED = ("/sandbox/requests", "/sandbox/health")  # reading the journal must not fill it; polling is noise
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def record_in_journal(response):
    call = current()
    request, g, services = call
    path = request.path
    if "held" not in g or not path.startswith(("/api/", CONTROLS_PREFIX)) or path.rstrip("/") in UNJOURNALED:
        return response
    try:
        claims = g.get("claims") or {}
        entry = services.extras["journals"](g.held).record(entry_id=g.get("journal_id"), entry={
            "at": clock.isoformat(clock.now(world())),
            "method": request.method,
            "path": path,
            "query": query_excerpt(request.query_string.decode("utf-8", "replace")),
            "status": response.status_code,
            "client_id": claims.get("client_id"),
            "request_id": g.get("request_id"),
            "duration_ms": round((time.perf_counter() - g.started) * 1000, 3),
            "request_body": _request_body(request, services),
            **({"fault": g.fault} if "fault" in g else {}),  # an armed fault this request met (api/faults.py)
            "response_body": None if response.is_streamed or response.direct_passthrough
            else body_excerpt(response.get_data(), ours=True),
        })
        record_exchange(response, entry, call)  # what the integration report grades (GET /sandbox/report)
    except Exception:  # the journal is a debugging aid: never fail the request over it
        log.exception("could not journal %s %s", request.method, path)
    return response


def _request_body(request, services) -> str | None:
    if not request.content_length and "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        # No body (RFC 9112 §6.3). Reading anyway would wait on the server's input stream for nothing:
        # granian marks input as terminated, so werkzeug reads it to its end, a round trip per request.
        return None
    if request.mimetype in FORM_TYPES:
        return body_excerpt(b"", request.form.to_dict())
    if request.content_length and request.content_length > int(services.settings["MAX_CONTENT_LENGTH"]):
        return None  # refused as 413: never read it
    return body_excerpt(request.get_data(cache=True))
