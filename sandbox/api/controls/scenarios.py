"""Sandbox control: the machine-readable catalogue of magic inputs and personas, each with what it triggers."""

from __future__ import annotations

from flask.views import MethodView

from ...domain import scenarios
from ...domain.seed import load_fixtures
from ...schemas.scenarios import ScenarioListSchema
from ..context import sandbox
from .blueprint import admin_only, blp


@blp.route("/scenarios")
class Scenarios(MethodView):
    @blp.response(200, ScenarioListSchema)
    @admin_only
    def get(self):
        """Magic inputs and personas, each with the request to send and its effect."""
        return {"data": scenarios.catalogue(load_fixtures(str(sandbox().settings["FIXTURES_DIR"])))}
