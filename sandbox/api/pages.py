"""The browser pages: a landing page at `/`, the API reference at `/docs`, the dashboard; every asset served from here.

Swagger UI's files come from the `flask-swagger-ui` package (used only as a carrier of the
swagger-ui-dist assets, so they install from PyPI like every other dependency).
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, send_from_directory

PAGES_DIR = Path(__file__).resolve().parent.parent / "playground"
SWAGGER_UI_DIR = Path(flask_swagger_ui.__file__).resolve().parent / "dist"

blp = Blueprint("pages", __name__)


@blp.get("/")
def landing():
    return send_from_directory(PAGES_DIR, "index.html", max_age=0)


@blp.get("/docs")
@blp.get("/docs/")
def playground():
    return send_from_directory(PAGES_DIR, "docs.html", max_age=0)


@blp.get("/dashboard")
def dashboard():
    return send_from_directory(PAGES_DIR, "dashboard.html", max_age=0)


@blp.get("/docs/assets/<path:filename>")
def swagger_ui_asset(filename: str):
    return send_from_directory(SWAGGER_UI_DIR, filename, max_age=3600)


@blp.get("/playground/<path:filename>")
def playground_asset(filename: str):
    return send_from_directory(PAGES_DIR, filename, max_age=0)
