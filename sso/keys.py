"""The keys that sign ID tokens, and the public set (JWKS) publishers verify them with.

OIDC_SIGNING_KEY holds the current RSA private key (PEM text, or the path of a PEM file).
OIDC_PREVIOUS_SIGNING_KEYS holds earlier keys: they sign nothing but stay in the JWKS, so
tokens signed just before a rotation still verify. In development a key is generated into
var/ on first use; with DEBUG off the settings refuse to start without one.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from joserfc.jwk import RSAKey

from sso.keygen import new_private_key_pem

DEVELOPMENT_KEY = "oidc-signing-key.pem"
PEM_END = "-----END PRIVATE KEY-----"


def _pem_text(value: str) -> str:
    value = value.strip()
    if value.startswith("-----BEGIN"):
        return value
    return Path(value).read_text()


def _split_pems(text: str) -> list[str]:
    return [part.strip() + "\n" + PEM_END for part in text.split(PEM_END) if part.strip()]


def _development_key() -> str:
    path = Path(settings.VAR_DIR) / DEVELOPMENT_KEY
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = new_private_key_pem()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
    return path.read_text()


def _import(pem: str) -> RSAKey:
    key = RSAKey.import_key(pem, {"use": "sig", "alg": "RS256"})
    if not key.is_private:
        raise ImproperlyConfigured("OIDC_SIGNING_KEY must be an RSA private key.")
    key.ensure_kid()  # the RFC 7638 thumbprint
    return key


@functools.cache
def signing_key() -> RSAKey:
    configured = settings.OIDC_SIGNING_KEY
    if configured:
        return _import(_pem_text(configured))
    if not settings.DEBUG:
        raise ImproperlyConfigured("Set OIDC_SIGNING_KEY to sign ID tokens.")
    return _import(_development_key())


@functools.cache
def previous_keys() -> list[RSAKey]:
    return [
        _import(pem)
        for value in settings.OIDC_PREVIOUS_SIGNING_KEYS
        for pem in _split_pems(_pem_text(value))
    ]


def public_jwks() -> dict:
    keys = [signing_key(), *previous_keys()]
    return {"keys": [key.as_dict(private=False) for key in keys]}


def forget() -> None:
    """Read the keys again (after the settings change, in tests)."""
    signing_key.cache_clear()
    previous_keys.cache_clear()
