"""OAuth 2.0 client credentials: client authentication, scope narrowing, RS256 access tokens and their checks.

Tokens carry the claims of the Connect docs plus `tenant`, so a token minted in one tenant is refused
in another. Expiry and not-before are judged on the world's sandbox clock, so advancing the clock
expires tokens without sleeping. Only RS256 is accepted: `alg: none` and HS256 tokens (including
HS256 signed with the public key) fail as `token_invalid`.

Checking an RS256 signature (and PyJWT's parsing around it) is most of a read request's CPU, and a
client sends the same token with every request: so what never changes for a token string (signature,
algorithm, issuer, audience, required claims) is remembered in a bounded cache on the key. What can
change is checked on every use: expiry and not-before on the sandbox clock, the tenant, and that the
client still exists in the world. Failures are never cached.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import json
import math
import threading
from collections import OrderedDict
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from ..errors import InvalidClient, InvalidScope, TokenExpired, TokenInvalid
from . import clock

ISSUER = "opescare-connect"
AUDIENCE = "opescare-api"
LIFETIME_SECONDS = 3600
CLOCK_SKEW_SECONDS = 60
VERIFIED_CACHE_SIZE = 4096
_token_counter = itertools.count(1)


class SigningKey:
    """The sandbox's RSA key pair (shipped in fixtures/, never a real secret) and its JWKS form."""

    def __init__(self, pem: bytes):
        # Our own shipped key: OpenSSL's RSA key validation would cost ~150 ms at every start.
        self.private_key = serialization.load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=True)
        self.public_key = self.private_key.public_key()
        self.public_jwk = json.loads(RSAAlgorithm.to_jwk(self.public_key))
        self.kid = _thumbprint(self.public_jwk)
        self.verified = VerifiedTokens()

    @classmethod
    def from_file(cls, path: str | Path) -> SigningKey:
        return _load_key(str(Path(path).resolve()))

    def jwks(self) -> dict:
        return {"keys": [{**self.public_jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}


class VerifiedTokens:
    """Claims of recently verified token strings, least recently used dropped first. Thread-safe."""

    def __init__(self, size: int = VERIFIED_CACHE_SIZE):
        self.size = size
        self._entries: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> dict | None:
        with self._lock:
            claims = self._entries.get(token)
            if claims is not None:
                self._entries.move_to_end(token)
            return claims

    def remember(self, token: str, claims: dict) -> None:
        with self._lock:
            self._entries[token] = claims
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


@functools.lru_cache(maxsize=4)
def _load_key(path: str) -> SigningKey:
    """Every app in a process (tests, tenants) shares the same key object, and so its verified-token cache."""
    return SigningKey(Path(path).read_bytes())


def _thumbprint(jwk: dict) -> str:
    """RFC 7638 thumbprint (SHA-256 over the required members in lexical order), first 16 hex digits."""
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def authenticate_client(world, client_id: str, client_secret: str) -> dict:
    client = world["clients"].first("client_id", client_id)
    if client is None or not hmac.compare_digest(client["secret_sha256"], hash_secret(client_secret)):
        raise InvalidClient()
    return client


def grant_scopes(client: dict, requested: str | None) -> list[str]:
    """The scopes the token gets: exactly those requested (each held by the client), or all the client's."""
    if requested is None or not requested.strip():
        return list(client["scopes"])
    wanted = list(dict.fromkeys(requested.split()))
    missing = [s for s in wanted if s not in client["scopes"]]
    if missing:
        raise InvalidScope(
            "The client may not request these scopes.", requested_scopes=wanted, unauthorized_scopes=missing
        )
    return wanted


def issue_token(world, key: SigningKey, client: dict, scopes: list[str], tenant: str) -> dict:
    issued_at = int(clock.now_ts(world))
    jti = hashlib.sha256(f"{tenant}:{client['client_id']}:{issued_at}:{next(_token_counter)}".encode()).hexdigest()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + LIFETIME_SECONDS,
        "jti": f"tok_{jti[:24]}",
        "sub": client["client_id"],
        "client_id": client["client_id"],
        "facility_id": client["facility_id"],
        "environment": "sandbox",
        "scopes": scopes,
        "tenant": tenant,
    }
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})
    return {"access_token": token, "token_type": "Bearer", "expires_in": LIFETIME_SECONDS, "scope": " ".join(scopes)}


def verify_token(world, key: SigningKey, token: str, tenant: str) -> dict:
    """The token's claims, or TokenInvalid / TokenExpired."""
    claims = key.verified.get(token)
    if claims is None:
        claims = _decode(key, token)
        key.verified.remember(token, claims)
    now = clock.now_ts(world)
    if not isinstance(claims.get("exp"), (int, float)) or now >= claims["exp"]:
        raise TokenExpired()
    if claims.get("jti") in (world.meta.get("expired_tokens") or ()):
        raise TokenExpired()  # marked expired by the certification run (nothing else on the clock moved)
    not_before = claims.get("nbf", claims.get("iat"))
    if not isinstance(not_before, (int, float)) or not_before > now + CLOCK_SKEW_SECONDS:
        raise TokenInvalid("The access token is not valid yet.")
    if claims.get("tenant", "default") != tenant:
        raise TokenInvalid("The access token was issued for another sandbox tenant.")
    if world["clients"].first("client_id", claims["sub"]) is None:
        raise TokenInvalid("The access token's client no longer exists in this world.")
    return dict(claims)


MAX_MARKED = 100  # tokens marked expired per world (the oldest marks go first)


def mark_expired(world, jti: str) -> None:
    """Expire one token now, as if its hour had passed, without moving the sandbox clock for anything else."""
    with world.transaction():
        marked = [m for m in (world.meta.get("expired_tokens") or ()) if m != jti]
        world.set_meta(expired_tokens=[*marked, jti][-MAX_MARKED:])


def _decode(key: SigningKey, token: str) -> dict:
    """What a token string proves by itself: a good RS256 signature over the right issuer, audience and claims."""
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                     "require": ["exp", "iat", "iss", "aud", "sub", "scopes"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenInvalid(f"The access token is not valid: {exc}.") from None
    if not _well_formed(claims):
        raise TokenInvalid("The access token's claims are malformed.")
    return claims


def _well_formed(claims: dict) -> bool:
    """The key is public, so anyone can sign any claims: odd types must be refused here, not crash a lookup later
    (a dict client_id), widen access (a string `scopes` matched by substring) or never expire (`exp: NaN`)."""
    times = [claims["exp"], claims["iat"]] + ([claims["nbf"]] if "nbf" in claims else [])
    scopes = claims["scopes"]
    return (all(isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t) for t in times)
            and claims.get("client_id", claims["sub"]) == claims["sub"]
            and isinstance(scopes, list) and all(isinstance(scope, str) for scope in scopes)
            and isinstance(claims.get("tenant", "default"), str)
            and isinstance(claims.get("facility_id", ""), str | None))


def require_scopes(claims: dict, needed: tuple[str, ...]) -> None:
    missing = [s for s in needed if s not in claims.get("scopes", [])]
    if missing:
        raise InvalidScope(required_scopes=list(needed), missing_scopes=missing)
