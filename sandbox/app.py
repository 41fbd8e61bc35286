"""create_app(): the one place where configuration, the world store, the API and the blueprints meet."""

from __future__ import annotations

import logging
from inspect import iscoroutinefunction
from pathlib import Path

from flask import Flask
from flask_cors import CORS
from flask_smorest import Api

from .api import BLUEPRINTS, pages
from .api.context import Sandbox, begin_call, check_tenant
from .api.errors import from_http_exception, register_error_handlers, render
from .api.examples import ExamplesPlugin
from .api.faults import DropConnections
from .api.hooks import begin_request, register_hooks, require_admin_token, simulate, trust_forwarded_for
from .api.jsonbody import SafeJSONProvider
from .api.security import authenticate_first
from .api.spec_rules import install as install_spec_rules
from .config import load_config
from .domain.seed import TemplateSource
from .domain.tokens import SigningKey
from .runtime.dispatcher import WebhookDispatcher
from .schemas.common import ErrorSchema
from .storage.worlds import WorldStore
from .version import __version__

SIGNING_KEY_FILE = "sandbox_signing_key.pem"

API_DESCRIPTION = """\
A local, stateful sandbox of the **OpesCare Connect API** (`/api/v1/connect`) and the **OpenEyes
Patient API** (`/api/v1/patient/search`), plus sandbox controls under `/sandbox`.

Sandbox credentials: `client_id=demo_dev_sandbox`, `client_secret=demo_secret_sandbox_2026`.
Every error uses one envelope: `{"error", "error_code", "message", "status"}`.
"""


OAUTH_SCOPES = {
    "patient:profile:read": "Patient search",
    "patient:diagnostics:read": "Medical records",
    "lab:results:read": "Lab results within records",
    "pharmacy:stock:read": "Pharmacy inventory",
    "blood:inventory:read": "Blood bank inventory",
}
CORS_EXPOSED_HEADERS = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "Retry-After", "X-Idempotent-Replay",
                        "WWW-Authenticate", "Location"]
CORS_EXPOSED_HEADERS.append("X-Request-Id")


class SandboxApi(Api):
    """flask-smorest's Api with the sandbox's error envelope for every HTTP error."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return render(from_http_exception(error))


class SandboxFlask(Flask):
    """Flask, minus a per-call cost: `ensure_sync` asked `inspect.iscoroutinefunction` about every hook and
    view on every request (~14 times, ~3 µs). The answer never changes for a function, so it is kept."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync: dict = {}

    def ensure_sync(self, func):
        key = getattr(func, "__func__", func)  # a MethodView's bound method is new on every request
        plain = self._sync.get(key)
        if plain is None:
            plain = not iscoroutinefunction(func)
            if len(self._sync) < 4096:  # the app's hooks and views; anything made on the fly is just not kept
                self._sync[key] = plain
        return func if plain else super().ensure_sync(func)


def create_app(config: dict | None = None) -> Flask:
    settings = load_config(config)
    app = SandboxFlask("opescare_sandbox")
    app.json = SafeJSONProvider(app)  # request.get_json(): too-deep nesting and lone surrogates are a 400
    app.config.update(settings)
    app.config.update(
        API_TITLE="OpesCare Sandbox",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False
    app.json.compact = True
    logging.getLogger("opescare_sandbox").setLevel(logging.INFO)

    fixtures_dir = Path(settings["FIXTURES_DIR"])
    store = WorldStore(
        TemplateSource(fixtures_dir, cache_dir=None if settings["IN_MEMORY"] else Path(settings["DATA_DIR"]) / "templates",
                       max_count=int(settings["TEMPLATE_MAX_COUNT"]), max_bytes=int(settings["TEMPLATE_MAX_BYTES"])),
        seed=int(settings["SEED"]),
        patients=int(settings["PATIENTS"]),
        data_dir=None if settings["IN_MEMORY"] else settings["DATA_DIR"],
        fsync=bool(settings["FSYNC"]),
    )
    app.extensions["opescare_sandbox"] = Sandbox(settings=settings, store=store,
                                        key=SigningKey.from_file(fixtures_dir / SIGNING_KEY_FILE))
    _start_webhooks(app.extensions["opescare_sandbox"])

    api = SandboxApi(app, spec_kwargs={"info": {"description": API_DESCRIPTION},
                                       "extra_plugins": [ExamplesPlugin()]})  # each status its real body
    _declare_security_schemes(api)
    install_spec_rules(api)
    register_error_handlers(app)
    register_hooks(app)
    app.before_request(_in_order(BEFORE_REQUEST))
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    app.register_blueprint(pages.blp)
    _allow_cross_origin(app, settings["CORS_ORIGINS"])
    app.extensions["opescare_sandbox_api"] = api
    app.wsgi_app = DropConnections(app.wsgi_app)  # an armed `drop` fault answers nothing at all
    return app


# Every request, in this order: Flask's proxies resolved once (api/context.py); the client's address
# (X-Forwarded-For only from a trusted proxy); a valid tenant; hold it (and maybe sweep idle ones); the admin
# token on /sandbox/*; the token and scopes, before flask-smorest parses the body; then `Prefer` simulation,
# only for an authenticated caller (touches no state). One registered hook: fewer calls per request.
BEFORE_REQUEST = (begin_call, trust_forwarded_for, check_tenant, begin_request, require_admin_token, authenticate_first, simulate)


def _in_order(hooks):
    def before_request():
        for hook in hooks:
            response = hook()
            if response is not None:
                return response
        return None

    return before_request


def _start_webhooks(services: Sandbox) -> None:
    """Deliveries for every world's events; resume the ones a previous run left pending. Threads start lazily."""
    dispatcher = WebhookDispatcher.from_settings(services.store, services.settings)
    services.store.listeners.append(dispatcher.listener)
    services.extras["webhooks"] = dispatcher
    dispatcher.close_at_exit()
    if dispatcher.enabled:
        dispatcher.resume()


def _allow_cross_origin(app: Flask, origins: str) -> None:
    """A sandbox: by default any origin may call it, so a playground hosted elsewhere works."""
    allowed = "*" if origins.strip() == "*" else [o.strip() for o in origins.split(",") if o.strip()]
    CORS(app, origins=allowed, max_age=600, expose_headers=CORS_EXPOSED_HEADERS,
         allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Prefer", "X-Sandbox-Tenant", "X-Request-Id"])


def _declare_security_schemes(api: Api) -> None:
    components = api.spec.components
    components.security_scheme("oauth2", {
        "type": "oauth2",
        "description": "Client credentials: demo_dev_sandbox / demo_secret_sandbox_2026.",
        "flows": {"clientCredentials": {"tokenUrl": "/api/v1/connect/auth/token", "scopes": OAUTH_SCOPES}},
    })
    components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    components.security_scheme("openEyesBasic", {"type": "http", "scheme": "basic"})
    components.security_scheme("sandboxAdmin", {"type": "http", "scheme": "bearer",
                                                "description": "Only when the server has SANDBOX_ADMIN_TOKEN set."})
