"""OIDC bearer tokens: RS256 JWTs checked against a configured JWKS (issuer, audience, expiry).

Small on purpose: only RS256 (what identity providers sign access and ID tokens with by default),
verified with the RSA public keys of the JWKS (PKCS#1 v1.5, SHA-256). The JWKS comes from an
``https://`` URL (fetched at first use, again when an unknown key id appears, at most once a
minute) or from a file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from pathlib import Path

from ._security import AuthenticationError

__all__ = ["OidcVerifier"]

# DER prefix of the PKCS#1 v1.5 DigestInfo for SHA-256.
_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
_LEEWAY = 60


def _b64(data: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (ValueError, TypeError):
        raise AuthenticationError("malformed token", code="auth.oidc.malformed") from None


def _int(data: str) -> int:
    return int.from_bytes(_b64(data), "big")


def rsa_verify(message: bytes, signature: bytes, n: int, e: int) -> bool:
    """RSASSA-PKCS1-v1_5 verification with SHA-256."""
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= n:
        return False
    em = pow(s, e, n).to_bytes(k, "big")
    t = _SHA256_PREFIX + hashlib.sha256(message).digest()
    expected = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return hmac.compare_digest(em, expected)


class OidcVerifier:
    """Validates bearer JWTs of one issuer.

    Args:
        issuer: Expected ``iss``.
        audience: Expected ``aud`` (string or member of the list).
        jwks: JWKS URL (``https://…``) or file path.
        user_claim: Claim holding the user id.
        groups_claim: Claim holding the user's groups (a list).
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks: str,
        *,
        user_claim: str = "preferred_username",
        groups_claim: str = "groups",
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.user_claim = user_claim
        self.groups_claim = groups_claim
        self._keys: dict[str, tuple[int, int]] = {}
        self._fetched = 0.0
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self.jwks.startswith(("https://", "http://")):
            import httpx

            data = httpx.get(self.jwks, timeout=10).raise_for_status().json()
        else:
            data = json.loads(Path(self.jwks).read_text("utf-8"))
        keys: dict[str, tuple[int, int]] = {}
        for k in data.get("keys", []):
            if k.get("kty") == "RSA" and k.get("use", "sig") == "sig":
                keys[str(k.get("kid", ""))] = (_int(k["n"]), _int(k["e"]))
        self._keys = keys
        self._fetched = time.monotonic()

    def _key(self, kid: str) -> tuple[int, int]:
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched > 60:
                try:
                    self._load()
                except Exception as exc:
                    raise AuthenticationError(
                        f"cannot read the identity provider's keys: {exc}",
                        code="auth.oidc.jwks",
                    ) from None
            key = self._keys.get(kid)
        if key is None:
            raise AuthenticationError("token signed with an unknown key", code="auth.oidc.key")
        return key

    def verify(self, token: str) -> tuple[str, tuple[str, ...]]:
        """The user id and groups of a valid token.

        Raises:
            AuthenticationError: Malformed, badly signed, expired, or for another issuer or
                audience.
        """
        parts = token.split(".")
        if len(parts) != 3:
            raise AuthenticationError("not a JWT", code="auth.oidc.malformed")
        try:
            header = json.loads(_b64(parts[0]))
            claims = json.loads(_b64(parts[1]))
        except ValueError:
            raise AuthenticationError("malformed token", code="auth.oidc.malformed") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise AuthenticationError("malformed token", code="auth.oidc.malformed")
        if header.get("alg") != "RS256":
            raise AuthenticationError("only RS256 tokens are accepted", code="auth.oidc.alg")
        n, e = self._key(str(header.get("kid", "")))
        signed = f"{parts[0]}.{parts[1]}".encode("ascii", "replace")
        if not rsa_verify(signed, _b64(parts[2]), n, e):
            raise AuthenticationError("bad token signature", code="auth.oidc.signature")
        now = time.time()
        if claims.get("iss") != self.issuer:
            raise AuthenticationError("token of another issuer", code="auth.oidc.issuer")
        aud = claims.get("aud")
        if not (aud == self.audience or (isinstance(aud, list) and self.audience in aud)):
            raise AuthenticationError("token for another audience", code="auth.oidc.audience")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp + _LEEWAY < now:
            raise AuthenticationError("token expired", code="auth.oidc.expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and nbf - _LEEWAY > now:
            raise AuthenticationError("token not valid yet", code="auth.oidc.not_yet")
        user = claims.get(self.user_claim) or claims.get("sub")
        if not isinstance(user, str) or not user or len(user) > 200:
            raise AuthenticationError("token names no user", code="auth.oidc.user")
        groups = claims.get(self.groups_claim) or []
        if not isinstance(groups, list):
            groups = []
        return user, tuple(str(g) for g in groups[:200])
