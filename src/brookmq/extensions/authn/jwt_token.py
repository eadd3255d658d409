"""The JWT authenticator (``jwt``), like EMQX's.

The token comes from the password (or the username, ``from``). It must be signed with the
configured key: an HMAC ``secret`` (optionally base64) for ``hmac-based`` (HS256/384/512), a
PEM ``public_key`` for ``public-key`` (RS*/PS* for RSA, ES* for EC, EdDSA for Ed25519). Only
those algorithms are accepted, so a token cannot pick its own (``none`` never passes, nor HMAC
keyed with the public key). ``exp`` and ``nbf`` are checked when present; ``verify_claims``
names claims that must equal a template (``${clientid}``, ``${username}``); a claim
``is_superuser: true`` makes a superuser.

A password that is not a JWT at all is not this authenticator's business (ignore); a JWT
that fails any check is denied; a key that cannot be read denies everyone.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from brookmq.extensions import placeholders
from brookmq.extensions.authn.chain import Authenticator

log = logging.getLogger("brookmq.authn.jwt")
HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"]


class JwtAuthenticator(Authenticator):
    id = "jwt"

    def __init__(
        self,
        algorithm: Literal["hmac-based", "public-key"] = "hmac-based",
        secret: str = "",
        secret_base64_encoded: bool = False,
        public_key: str = "",
        from_field: Literal["password", "username"] = "password",
        verify_claims: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.algorithm = algorithm
        self.from_field = from_field
        self.verify_claims = dict(verify_claims or {})
        placeholders.check_all(self.verify_claims, "verify_claims")
        self.problem = ""  # why the key cannot be used; then every token is denied
        self.key: Any = b""
        self.algorithms: list[str] = []
        try:
            if algorithm == "hmac-based":
                self.key = (
                    base64.b64decode(secret, validate=True) if secret_base64_encoded else secret.encode()
                )
                self.algorithms = HMAC_ALGORITHMS
                if not self.key:
                    self.problem = "the secret is empty"
            else:
                self.key = load_pem_public_key(public_key.encode())
                self.algorithms = _algorithms_for(self.key)
        except (ValueError, TypeError, binascii.Error) as exc:
            self.problem = f"the key cannot be read: {exc}"
        if self.problem:
            log.error("JWT authenticator: %s; every JWT will be denied", self.problem)

    def authenticate(self, client: Any, password: bytes | None) -> bool | None:
        raw = password if self.from_field == "password" else (client.username or "").encode()
        token = (raw or b"").decode("ascii", "replace")
        if token.count(".") != 2:
            return None  # not a JWT
        if self.problem:
            return False
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=self.algorithms,
                options={"verify_aud": False, "verify_iss": False},
            )
        except jwt.InvalidTokenError as exc:
            log.info("JWT of %r refused: %s", client.client_id, exc)
            return False
        values = placeholders.client_values(client)
        for claim, template in self.verify_claims.items():
            found = claims.get(claim)
            if not isinstance(found, str) or found != placeholders.render(template, values):
                log.info("JWT of %r refused: claim %s does not match", client.client_id, claim)
                return False
        client.is_superuser = claims.get("is_superuser") is True
        return True


def _algorithms_for(key: Any) -> list[str]:
    if isinstance(key, rsa.RSAPublicKey):
        return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ["ES256", "ES384", "ES512"]
    if isinstance(key, ed25519.Ed25519PublicKey):
        return ["EdDSA"]
    raise ValueError(f"unsupported public key type {type(key).__name__}")
