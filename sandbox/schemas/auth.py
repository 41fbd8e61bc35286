"""Schemas of the token endpoint and the JWKS document."""

from __future__ import annotations

import marshmallow as ma

from .common import RequestSchema


class TokenRequestSchema(RequestSchema):
    grant_type = ma.fields.String(
        required=True, validate=ma.validate.Length(max=64), metadata={"example": "client_credentials"}
    )
    client_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128),
                                 metadata={"example": "demo_dev_sandbox"})
    client_secret = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=256),
                                     metadata={"example": "demo_secret_sandbox_2026"})
    scope = ma.fields.String(
        validate=ma.validate.Length(max=1024),
        metadata={"description": "Space-separated; absent means all the client's scopes.",
                  "example": "patient:profile:read patient:diagnostics:read"},
    )


class TokenResponseSchema(ma.Schema):
    access_token = ma.fields.String(required=True, metadata={"description": "RS256 JWT"})
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"example": 3600})
    scope = ma.fields.String(required=True, metadata={"example": "patient:profile:read pharmacy:stock:read"})


class JwkSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    kty = ma.fields.String(required=True)
    kid = ma.fields.String(required=True)
    use = ma.fields.String()
    alg = ma.fields.String()
    n = ma.fields.String(required=True)
    e = ma.fields.String(required=True)


class JwksSchema(ma.Schema):
    keys = ma.fields.List(ma.fields.Nested(JwkSchema), required=True)
