"""Configuration: defaults, overridden by SANDBOX_* environment variables, overridden by an explicit mapping.

The explicit mapping is what `create_app(config)` receives: the CLI's flags and the tests' settings,
so both always win over the environment (the flaskr rule).
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, object] = {
    "SEED": 42,
    "PATIENTS": 200,
    "DATA_DIR": ".sandbox-data",
    "IN_MEMORY": False,
    "FIXTURES_DIR": None,  # resolved by fixtures_dir(): the checkout's fixtures/, else the installed copy
    "HOST": "127.0.0.1",
    "PORT": 8080,
    "SERVER": "granian",
    "THREADS": 8,
    "RATE_LIMIT": 200,
    "RATE_LIMIT_ENABLED": True,
    "ADMIN_TOKEN": None,
    "TENANT_TTL": 0,
    "JOURNAL_SIZE": 1000,
    "MAX_DELAY_MS": 10_000,
    "FSYNC": False,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "WEBHOOK_DELIVERY": True,
    "WEBHOOK_TIMEOUT": 10.0,
    "WEBHOOK_WORKERS": 4,
    "WEBHOOK_QUEUE_SIZE": 256,
    "WEBHOOK_INTERVAL": 0.5,
    "WEBHOOK_ROTATION_GRACE_SECONDS": 24 * 3600,
    "CORS_ORIGINS": "*",
    "WORKER": None,  # this worker's index in a cluster (set by `opescare-sandbox cluster`); None alone
    # The public profile (docs/hosted.md): `serve --public` / SANDBOX_PUBLIC=1.
    "PUBLIC": False,
    "BEHIND_PROXY": False,  # set by the cluster launcher: HAProxy in front bounds slow clients and sources
    "WEBHOOK_ALLOW": "",  # comma-separated CIDRs a public server may also deliver to (operators, tests)
    "TRUSTED_PROXIES": "",  # comma-separated CIDRs whose X-Forwarded-For is believed
    # Bounds; 0 means none. PUBLIC_BOUNDS below switches them on in the public profile.
    "MAX_TENANTS": 0,
    "MAX_PATIENTS": 0,
    "TEMPLATE_MAX_COUNT": 0,
    "TEMPLATE_MAX_BYTES": 0,
    "MAX_SUBSCRIPTIONS_PER_CLIENT": 0,
    "MAX_SUBSCRIPTIONS_PER_TENANT": 0,
    "MAX_SNAPSHOTS": 0,
    "MAX_IDEMPOTENCY_KEYS": 0,
    "JOURNAL_BYTES": 0,
    "MAX_DELAYED_PER_TENANT": 4,  # both modes: delayed requests in flight per tenant (threads are 8)
    "LOGIN_FAILURES": 0,  # failed logins per client_id / user per minute before 429
}

# What the public profile changes, unless a variable or flag sets the key explicitly (docs/hosted.md's table).
PUBLIC_BOUNDS: dict[str, object] = {
    "TENANT_TTL": 1800,
    "MAX_TENANTS": 200,
    "MAX_PATIENTS": 2000,
    "TEMPLATE_MAX_COUNT": 8,
    "TEMPLATE_MAX_BYTES": 64 * 1024 * 1024,
    "MAX_SUBSCRIPTIONS_PER_CLIENT": 10,
    "MAX_SUBSCRIPTIONS_PER_TENANT": 25,
    "MAX_SNAPSHOTS": 10,
    "MAX_IDEMPOTENCY_KEYS": 1000,
    "JOURNAL_BYTES": 512 * 1024,
    "MAX_DELAY_MS": 5000,
    "MAX_DELAYED_PER_TENANT": 2,
    "LOGIN_FAILURES": 10,
    "WEBHOOK_TIMEOUT": 5.0,
}

# Environment variable -> how to read it. Every key of DEFAULTS can be set as SANDBOX_<KEY>.
_BOOL_TRUE = {"1", "true", "yes", "on"}


def _coerce(key: str, raw: str) -> object:
    default = DEFAULTS[key]
    if isinstance(default, bool):
        return raw.strip().lower() in _BOOL_TRUE
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw or None


def from_environment(environ: dict[str, str] | None = None) -> dict[str, object]:
    """The SANDBOX_* variables that are set, coerced to the type of their default."""
    environ = os.environ if environ is None else environ
    found = {}
    for key in DEFAULTS:
        raw = environ.get(f"SANDBOX_{key}")
        if raw is not None:
            found[key] = _coerce(key, raw)
    return found


def load_config(overrides: dict | None = None, environ: dict[str, str] | None = None) -> dict:
    """Defaults < environment < overrides. Unknown override keys pass through (Flask settings)."""
    config = dict(DEFAULTS)
    config.update(from_environment(environ))
    config.update({k: v for k, v in (overrides or {}).items() if v is not None or k not in DEFAULTS})
    if config["PUBLIC"]:
        explicit = set(from_environment(environ)) | {k for k, v in (overrides or {}).items() if v is not None}
        config.update({k: v for k, v in PUBLIC_BOUNDS.items() if k not in explicit})
    config["FIXTURES_DIR"] = config["FIXTURES_DIR"] or fixtures_dir()
    return config


def fixtures_dir() -> str:
    """`fixtures/` of a checkout (editable install), else the copy a wheel installs as data files (pip install)."""
    checkout = REPO_ROOT / "fixtures"
    if checkout.is_dir():
        return str(checkout)
    try:
        files = metadata.distribution("opescare-sandbox").files or []
    except metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name == "sandbox_signing_key.pem":
            return str(Path(file.locate()).resolve().parent)
    return str(checkout)  # not found: create_app's error names the path it looked in


# What each SANDBOX_<KEY> does: `serve --help` and docs/durability.md list every key of DEFAULTS (a test
# checks both), with these words where there are some.
DESCRIPTIONS: dict[str, str] = {
    "SEED": "seed of every generated world",
    "PATIENTS": "synthetic patients per population",
    "DATA_DIR": "where worlds are stored (one server per directory)",
    "IN_MEMORY": "keep worlds in memory only (nothing on disk)",
    "FIXTURES_DIR": "the fixtures folder (none: the checkout's, else the installed copy)",
    "HOST": "interface to bind",
    "PORT": "port to listen on",
    "SERVER": "HTTP server: granian or waitress",
    "THREADS": "threads: granian's for the sandbox controls (Connect and OpenEyes run in its event loop), waitress's for all",
    "RATE_LIMIT": "requests per minute per client",
    "RATE_LIMIT_ENABLED": "false switches rate limiting off",
    "ADMIN_TOKEN": "bearer token required on /sandbox/* controls",
    "TENANT_TTL": "seconds before an idle tenant is dropped (0: never)",
    "JOURNAL_SIZE": "requests kept in each tenant's request journal",
    "MAX_DELAY_MS": "longest `Prefer: delay=` honoured",
    "FSYNC": "fsync every write-journal line (survives power loss, slower)",
    "MAX_CONTENT_LENGTH": "largest request body, in bytes",
    "WEBHOOK_DELIVERY": "false: record webhook deliveries but never send them",
    "WEBHOOK_TIMEOUT": "seconds a receiver gets to answer a delivery",
    "WEBHOOK_WORKERS": "deliveries sent at once",
    "WEBHOOK_QUEUE_SIZE": "deliveries queued for the senders",
    "WEBHOOK_INTERVAL": "seconds between looks for due deliveries",
    "CORS_ORIGINS": "origins allowed to call from a browser (comma-separated, or *)",
    "WORKER": "this server's index in a cluster (opescare-sandbox cluster sets it; health shows it)",
    "PUBLIC": "the public profile for a hosted playground (--public; docs/hosted.md)",
    "BEHIND_PROXY": "HAProxy is in front (the cluster launcher sets it); without it --public warns",
    "WEBHOOK_ALLOW": "CIDRs a public server may also deliver webhooks to (comma-separated)",
    "TRUSTED_PROXIES": "CIDRs whose X-Forwarded-For is believed (comma-separated)",
    "MAX_TENANTS": "tenants at once; at the cap idle ones past the TTL are evicted, else 429 tenant_limit (public: 200)",
    "MAX_PATIENTS": "patients a reset may ask for (public: 2,000)",
    "TEMPLATE_MAX_COUNT": "template worlds kept on disk, oldest removed (public: 8)",
    "TEMPLATE_MAX_BYTES": "bytes of template worlds kept on disk (public: 64 MiB)",
    "MAX_SUBSCRIPTIONS_PER_CLIENT": "webhook subscriptions per client (public: 10)",
    "MAX_SUBSCRIPTIONS_PER_TENANT": "webhook subscriptions per tenant (public: 25)",
    "MAX_SNAPSHOTS": "snapshots per tenant (0: the built-in 100; public: 10)",
    "MAX_IDEMPOTENCY_KEYS": "idempotency keys per tenant (public: 1,000)",
    "JOURNAL_BYTES": "bytes of request journal per tenant (public: 512 KiB)",
    "MAX_DELAYED_PER_TENANT": "Prefer: delay requests in flight per tenant, else 429 delay_limit (public: 2)",
    "LOGIN_FAILURES": "failed token or OpenEyes logins per client or user per minute before 429 (public: 10)",
}
