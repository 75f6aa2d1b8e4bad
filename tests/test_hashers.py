"""The real hashing parameters (the rest of the suite uses a fast hasher)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, extract_parameters
from django.contrib.auth.hashers import check_password, make_password

from basispoort import settings as project_settings
from basispoort.lib.hashers import PortalArgon2Hasher

OWASP_MIN_MEMORY_KIB = 19 * 1024


def test_it_configures_argon2id_first():
    # The project's own settings module, not the fast hasher the suite swaps in.
    assert project_settings.PASSWORD_HASHERS[0] == "basispoort.lib.hashers.PortalArgon2Hasher"


def test_it_uses_parameters_no_weaker_than_owasp():
    encoded = PortalArgon2Hasher().encode("2468", PortalArgon2Hasher().salt())
    assert encoded.startswith("argon2$argon2id$")
    params = extract_parameters(encoded.removeprefix("argon2"))
    assert params.memory_cost >= OWASP_MIN_MEMORY_KIB
    assert params.time_cost >= 2
    assert params.parallelism == 1
    assert PasswordHasher().verify(encoded.removeprefix("argon2"), "2468")


def test_it_verifies_and_rejects_with_the_real_hasher(settings):
    settings.PASSWORD_HASHERS = ["basispoort.lib.hashers.PortalArgon2Hasher"]
    encoded = make_password("2468")
    assert check_password("2468", encoded)
    assert not check_password("2469", encoded)


@pytest.mark.django_db
def test_it_upgrades_a_pin_hashed_with_older_parameters(settings, cast):
    settings.PASSWORD_HASHERS = ["basispoort.lib.hashers.PortalArgon2Hasher"]

    class Weaker(PortalArgon2Hasher):
        memory_cost = OWASP_MIN_MEMORY_KIB
        time_cost = 2

    cast.emma.pin_hash = Weaker().encode("2468", Weaker().salt())
    cast.emma.save()
    assert cast.emma.check_pin("2468")
    cast.emma.refresh_from_db()
    assert f"m={PortalArgon2Hasher.memory_cost}," in cast.emma.pin_hash
    assert cast.emma.check_pin("2468")
