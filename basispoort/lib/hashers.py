"""Password, PIN and picture-password hashing.

Argon2id with parameters set here rather than Django's defaults (p=8 would ask for eight
lanes on a two-core server); `make bench-argon2` measures them.

- Parents' and staff passwords: m=32 MiB, t=2, p=1, above OWASP's floor, for the case of a
  stolen database: one guess costs about 0.1 s of a core.
- Children's PINs and picture passwords: OWASP's floor, m=19 MiB, t=2, p=1, at about a
  third of the cost. There are only 10,000 PINs (and 144 picture pairs): no hash setting could
  keep those from someone holding the database, so the protection is online (the per-pupil
  wait and lock) and the cheaper hash halves the CPU a home login needs.
"""

from __future__ import annotations

from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    check_password,
    get_hasher,
    make_password,
)

CHILD_SECRET_ALGORITHM = "argon2pin"  # noqa: S105 (a hasher name)


class PortalArgon2Hasher(Argon2PasswordHasher):
    algorithm = "argon2"
    time_cost = 2
    memory_cost = 32 * 1024  # KiB
    parallelism = 1


class ChildSecretArgon2Hasher(PortalArgon2Hasher):
    algorithm = CHILD_SECRET_ALGORITHM
    memory_cost = 19 * 1024  # KiB


def _child_secret_hasher():
    try:
        return get_hasher(CHILD_SECRET_ALGORITHM)
    except ValueError:  # not in PASSWORD_HASHERS (the test suite's fast hasher): the default
        return get_hasher("default")


def make_child_secret(raw: str) -> str:
    """The hash of a PIN or picture sequence."""
    return make_password(raw, hasher=_child_secret_hasher())


def check_child_secret(raw: str, encoded: str, setter=None) -> bool:
    """Check a PIN or picture sequence; setter re-hashes one stored with other parameters."""
    return check_password(raw, encoded, setter, preferred=_child_secret_hasher())
