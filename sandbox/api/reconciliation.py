"""Endpoint 13: the payment reconciliation of the token's facility for a date."""

from __future__ import annotations

from flask.views import MethodView

from ..domain import reconciliation
from ..schemas.common import ErrorSchema
from ..schemas.reconciliation import ReconciliationQuerySchema, ReconciliationSchema
from .blueprint import Blueprint
from .context import world
from .security import bearer_claims, requires_token

blp = Blueprint("Reconciliation", __name__, description="Daily payment reconciliation (XAF) of the token's facility")


@blp.route("/api/v1/connect/reconciliation")
class Reconciliation(MethodView):
    @blp.arguments(ReconciliationQuerySchema, location="query")
    @blp.response(200, ReconciliationSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="invalid_request: date not a real YYYY-MM-DD date")
    @blp.alt_response(404, schema=ErrorSchema, description="facility_not_found: the token's facility is unknown")
    @requires_token(blp)
    def get(self, query):
        """Payment reconciliation records of the token's facility for a date."""
        return reconciliation.reconciliation(world(), bearer_claims()["facility_id"], query.get("date"))
