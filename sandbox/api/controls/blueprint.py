"""The one "Sandbox controls" blueprint every control module adds its routes to (one OpenAPI tag for all)."""

from __future__ import annotations

from ...schemas.common import ErrorSchema
from ..blueprint import Blueprint

blp = Blueprint("Sandbox controls", __name__, description="Set up and inspect the test world (not part of any production API)",
                url_prefix="/sandbox")

# Open unless the server has an admin token; then `Authorization: Bearer <admin token>` (the hooks enforce it).
ADMIN_SECURITY = [{"sandboxAdmin": []}, {}]


def admin_only(view):
    """Documents a control operation's admin-token security and its 401 (enforced in hooks.require_admin_token)."""
    documented = blp.doc(security=ADMIN_SECURITY)(view)
    return blp.alt_response(401, schema=ErrorSchema,
                            description="admin_token_required: the server has an admin token and it was not sent")(documented)
