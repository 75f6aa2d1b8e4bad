"""The keys that sign ID tokens, and the public set (JWKS) publishers verify them with.

OIDC_SIGNING_KEY holds the current RSA private key (PEM text, or the path of a PEM file).
Two more lists are published in the JWKS but sign nothing (public keys are enough):
OIDC_NEXT_SIGNING_KEYS, the key that will sign after the next rotation (published first, so
publishers' cached key sets know it before the first token signed with it), and
OIDC_PREVIOUS_SIGNING_KEYS, keys that signed before (so tokens in flight still verify).
In development a key is generated into var/ on first use; with DEBUG off the settings refuse
to start without one.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from joserfc.jwk import RSAKey

from sso.keygen import new_private_key_pem

DEVELOPMENT_KEY = "oidc-signing-key.pem"
PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


def _pem_text(value: str) -> str:
    value = value.strip()
    if value.startswith("-----BEGIN"):
        return value
    return Path(value).read_text()


def _split_pems(text: str) -> list[str]:
    return [match.group(0) for match in PEM_BLOCK.finditer(text)]


def _development_key() -> str:
    path = Path(settings.VAR_DIR) / DEVELOPMENT_KEY
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = new_private_key_pem()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
    return path.read_text()


def _import(pem: str, *, private: bool = True) -> RSAKey:
    key = RSAKey.import_key(pem, {"use": "sig", "alg": "RS256"})
    if private and not key.is_private:
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


def _published(values: list[str]) -> list[RSAKey]:
    return [
        _import(pem, private=False) for value in values for pem in _split_pems(_pem_text(value))
    ]


@functools.cache
def published_keys() -> list[RSAKey]:
    """The signing key first, then the next and the previous ones, each once."""
    keys, seen = [], set()
    extra = [*settings.OIDC_NEXT_SIGNING_KEYS, *settings.OIDC_PREVIOUS_SIGNING_KEYS]
    for key in [signing_key(), *_published(extra)]:
        if key.kid not in seen:
            seen.add(key.kid)
            keys.append(key)
    return keys


def public_jwks() -> dict:
    return {"keys": [key.as_dict(private=False) for key in published_keys()]}


def forget() -> None:
    """Read the keys again (after the settings change, in tests)."""
    signing_key.cache_clear()
    published_keys.cache_clear()
