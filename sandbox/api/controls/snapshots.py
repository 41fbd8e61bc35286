"""Sandbox controls: save, list and restore named snapshots of the caller's tenant."""

from __future__ import annotations

from flask.views import MethodView

from ...schemas.common import ErrorSchema
from ...schemas.controls import (
    RestoredSnapshotSchema,
    SavedSnapshotSchema,
    SnapshotListSchema,
    SnapshotRequestSchema,
)
from ..blueprint import path_example
from ..context import sandbox, tenant
from .blueprint import admin_only, blp


def snapshots():
    return sandbox().extras["snapshots"]


@blp.route("/snapshots")
class Snapshots(MethodView):
    @blp.response(200, SnapshotListSchema)
    @admin_only
    def get(self):
        """List the tenant's snapshots, oldest first."""
        return {"data": snapshots().list(tenant())}

    @blp.arguments(SnapshotRequestSchema)
    @blp.response(201, SavedSnapshotSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="Missing or malformed name")
    @blp.alt_response(422, schema=ErrorSchema, description="snapshot_limit: the tenant keeps its maximum (100; public profile 10)")
    @admin_only
    def post(self, body):
        """Save the tenant's world under a name (an existing snapshot of that name is replaced)."""
        info, replaced = snapshots().save(tenant(), body["name"])
        return {**info, "replaced": replaced}


@blp.route("/snapshots/<string:name>/restore", parameters=[path_example("name", "before-test")])
class SnapshotRestore(MethodView):
    @blp.response(200, RestoredSnapshotSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="snapshot_not_found")
    @admin_only
    def post(self, name):
        """Put the tenant's world back to a snapshot (its clock included)."""
        info = snapshots().restore(tenant(), name)
        return {"status": "restored", "tenant": tenant(), **info}
