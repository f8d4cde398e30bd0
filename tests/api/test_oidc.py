"""OIDC bearer JWTs (RS256 against a JWKS file): accepted, and refused when anything is off."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from pathlib import Path

import pytest

from liucheng.api import AuthenticationError, Services, Settings
from liucheng.api._oidc import OidcVerifier

_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def _prime(bits: int, rng: random.Random) -> int:
    while True:
        p = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
        if all(pow(a, p - 1, p) == 1 for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)):
            return p


def _keypair(seed: int) -> tuple[int, int, int]:
    rng = random.Random(seed)
    e = 65537
    while True:
        p, q = _prime(512, rng), _prime(512, rng)
        phi = (p - 1) * (q - 1)
        if p != q and phi % e:
            return p * q, e, pow(e, -1, phi)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(claims: dict, key: tuple[int, int, int], kid: str = "k1", alg: str = "RS256") -> str:
    n, _, d = key
    head = _b64(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    k = (n.bit_length() + 7) // 8
    t = _SHA256_PREFIX + hashlib.sha256(f"{head}.{body}".encode()).digest()
    em = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    sig = pow(int.from_bytes(em, "big"), d, n).to_bytes(k, "big")
    return f"{head}.{body}.{_b64(sig)}"


@pytest.fixture(scope="module")
def keys() -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    return _keypair(1), _keypair(2)


def _jwks(tmp_path: Path, key: tuple[int, int, int]) -> Path:
    n, e, _ = key
    path = tmp_path / "jwks.json"
    to = lambda i: _b64(i.to_bytes((i.bit_length() + 7) // 8, "big"))  # noqa: E731
    path.write_text(
        json.dumps({"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "n": to(n), "e": to(e)}]})
    )
    return path


def test_verifier_accepts_good_tokens_only(tmp_path: Path, keys) -> None:
    good, other = keys
    v = OidcVerifier("https://idp.example", "liucheng", str(_jwks(tmp_path, good)))
    now = int(time.time())
    claims = {
        "iss": "https://idp.example",
        "aud": ["liucheng", "x"],
        "exp": now + 300,
        "preferred_username": "anna",
        "groups": ["service-desk"],
    }
    assert v.verify(_sign(claims, good)) == ("anna", ("service-desk",))
    bad = {
        "auth.oidc.signature": _sign(claims, other),
        "auth.oidc.expired": _sign({**claims, "exp": now - 3600}, good),
        "auth.oidc.issuer": _sign({**claims, "iss": "https://evil.example"}, good),
        "auth.oidc.audience": _sign({**claims, "aud": "other"}, good),
        "auth.oidc.alg": _sign(claims, good, alg="HS256"),
        "auth.oidc.key": _sign(claims, good, kid="k9"),
        "auth.oidc.malformed": "a.b",
    }
    for code, token in bad.items():
        with pytest.raises(AuthenticationError) as info:
            v.verify(token)
        assert info.value.code == code
    # a tampered payload fails the signature
    head, _, sig = _sign(claims, good).split(".")
    forged = _b64(json.dumps({**claims, "preferred_username": "admin"}).encode())
    with pytest.raises(AuthenticationError):
        v.verify(f"{head}.{forged}.{sig}")


def test_server_takes_oidc_users(tmp_path: Path, keys) -> None:
    good, _ = keys
    settings = Settings(
        database=f"sqlite:///{tmp_path / 'o.db'}",
        run_jobs=False,
        oidc_issuer="https://idp.example",
        oidc_audience="liucheng",
        oidc_jwks=str(_jwks(tmp_path, good)),
    )
    svc = Services(settings)
    try:
        svc.users.add("boss", "a-long-password", is_admin=True)
        now = int(time.time())
        base = {"iss": "https://idp.example", "aud": "liucheng", "exp": now + 3600}
        user = svc.authenticate(_sign({**base, "sub": "u-123", "groups": ["g1"]}, good))
        assert (user.id, user.groups, user.is_admin) == ("u-123", ("g1",), False)
        boss = svc.caller(svc.authenticate(_sign({**base, "preferred_username": "boss"}, good)))
        assert boss.is_admin
        svc.users.update("boss", disabled=True)
        with pytest.raises(AuthenticationError):
            svc.authenticate(_sign({**base, "preferred_username": "boss"}, good))
    finally:
        svc.stop()
