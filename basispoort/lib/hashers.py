"""Password, PIN and picture-password hashing.

Argon2id with parameters set here rather than Django's defaults (p=8 would ask for eight
lanes on a two-core server); `make bench-argon2` measures them.

- Parents' and staff passwords: m=32 MiB, t=2, p=1, above OWASP's floor, for the case of a
  stolen database: one guess costs about 0.1 s of a core.
- Children's PINs and picture passwords: OWASP's floor, m=19 MiB, t=2, p=1, at 30–40 % of
  a password's cost. There are only 10,000 PINs (and 144 picture pairs): no hash setting
  could keep those from someone holding the database, so the protection is online (the
  per-pupil wait and lock), and the cheaper hash takes about a third off a home login's CPU.

The PIN hasher must stay in PASSWORD_HASHERS: without it no stored PIN could be checked
(a system check says so at start-up).
"""

from __future__ import annotations

from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    check_password,
    get_hasher,
    make_password,
)
from django.core import checks

CHILD_SECRET_ALGORITHM = "argon2pin"  # noqa: S105 (a hasher name)


class PortalArgon2Hasher(Argon2PasswordHasher):
    algorithm = "argon2"
    time_cost = 2
    memory_cost = 32 * 1024  # KiB
    parallelism = 1


class ChildSecretArgon2Hasher(PortalArgon2Hasher):
    algorithm = CHILD_SECRET_ALGORITHM
    memory_cost = 19 * 1024  # KiB


def make_child_secret(raw: str) -> str:
    """The hash of a PIN or picture sequence."""
    return make_password(raw, hasher=get_hasher(CHILD_SECRET_ALGORITHM))


def check_child_secret(raw: str, encoded: str, setter=None) -> bool:
    """Check a PIN or picture sequence; setter re-hashes one stored with other parameters."""
    return check_password(raw, encoded, setter, preferred=get_hasher(CHILD_SECRET_ALGORITHM))


@checks.register(checks.Tags.security)
def child_secret_hasher_configured(app_configs, **kwargs):
    try:
        get_hasher(CHILD_SECRET_ALGORITHM)
    except ValueError:
        return [
            checks.Error(
                f"PASSWORD_HASHERS has no hasher for '{CHILD_SECRET_ALGORITHM}': "
                "no child could log in with a PIN or pictures.",
                id="thuisportaal.E001",
            )
        ]
    return []
