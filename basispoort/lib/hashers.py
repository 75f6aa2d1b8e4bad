"""Password, PIN and picture-password hashing.

Argon2id with parameters set here rather than Django's defaults (p=8 would ask for eight
lanes on a two-core server). The memory cost sits above OWASP's floor (m=19 MiB, t=2,
p=1); one verification takes about 85 ms of one core on the development machines.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class PortalArgon2Hasher(Argon2PasswordHasher):
    algorithm = "argon2"
    time_cost = 2
    memory_cost = 32 * 1024  # KiB
    parallelism = 1
