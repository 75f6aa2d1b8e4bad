"""The real hashing parameters (the rest of the suite uses a fast hasher)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, extract_parameters
from django.contrib.auth.hashers import check_password, make_password

from basispoort import settings as project_settings
from basispoort.lib.hashers import ChildSecretArgon2Hasher, PortalArgon2Hasher

OWASP_MIN_MEMORY_KIB = 19 * 1024


def test_it_configures_argon2id_first():
    # The project's own settings module, not the fast hasher the suite swaps in.
    assert project_settings.PASSWORD_HASHERS[0] == "basispoort.lib.hashers.PortalArgon2Hasher"


@pytest.mark.parametrize("hasher", [PortalArgon2Hasher, ChildSecretArgon2Hasher])
def test_it_uses_parameters_no_weaker_than_owasp(hasher):
    encoded = hasher().encode("2468", hasher().salt())
    assert encoded.startswith(f"{hasher.algorithm}$argon2id$")
    params = extract_parameters(encoded.removeprefix(hasher.algorithm))
    assert params.memory_cost >= OWASP_MIN_MEMORY_KIB
    assert params.time_cost >= 2
    assert params.parallelism == 1
    assert PasswordHasher().verify(encoded.removeprefix(hasher.algorithm), "2468")


REAL_HASHERS = project_settings.PASSWORD_HASHERS


@pytest.mark.django_db
def test_it_hashes_children_secrets_apart_from_passwords(settings, cast):
    settings.PASSWORD_HASHERS = REAL_HASHERS
    cast.emma.set_pin("2468")
    cast.daan.set_picture_password(["kat", "zon"])
    cast.parent_a.set_password("een lang wachtwoord")
    assert cast.emma.pin_hash.startswith("argon2pin$argon2id$v=19$m=19456,t=2,p=1$")
    assert cast.daan.picture_password_hash.startswith("argon2pin$argon2id$v=19$m=19456,t=2,p=1$")
    assert cast.parent_a.password.startswith("argon2$argon2id$v=19$m=32768,t=2,p=1$")
    assert cast.emma.check_pin("2468") and not cast.emma.check_pin("2469")
    assert cast.daan.check_picture_password(["kat", "zon"])
    assert not cast.daan.check_picture_password(["zon", "kat"])


def test_it_verifies_and_rejects_with_the_real_hasher(settings):
    settings.PASSWORD_HASHERS = ["basispoort.lib.hashers.PortalArgon2Hasher"]
    encoded = make_password("2468")
    assert check_password("2468", encoded)
    assert not check_password("2469", encoded)


@pytest.mark.django_db
def test_it_moves_a_pin_hashed_like_a_password_to_the_pin_parameters(settings, cast):
    settings.PASSWORD_HASHERS = REAL_HASHERS
    cast.emma.pin_hash = PortalArgon2Hasher().encode("2468", PortalArgon2Hasher().salt())
    cast.emma.save()
    assert cast.emma.check_pin("2468")
    cast.emma.refresh_from_db()
    assert cast.emma.pin_hash.startswith("argon2pin$")
    assert f"m={ChildSecretArgon2Hasher.memory_cost}," in cast.emma.pin_hash
    assert cast.emma.check_pin("2468")


@pytest.mark.django_db
def test_it_moves_pictures_hashed_like_a_password_to_the_pin_parameters(settings, cast):
    settings.PASSWORD_HASHERS = REAL_HASHERS
    old = PortalArgon2Hasher()
    cast.daan.picture_password_hash = old.encode("kat,zon", old.salt())
    cast.daan.save()
    assert cast.daan.check_picture_password(["kat", "zon"])
    cast.daan.refresh_from_db()
    assert cast.daan.picture_password_hash.startswith("argon2pin$")
    assert cast.daan.check_picture_password(["kat", "zon"])


def test_it_refuses_to_start_without_the_pin_hasher(settings):
    from django.core import checks

    settings.PASSWORD_HASHERS = ["basispoort.lib.hashers.PortalArgon2Hasher"]
    errors = checks.run_checks(tags=[checks.Tags.security])
    assert "thuisportaal.E001" in [error.id for error in errors]
    settings.PASSWORD_HASHERS = REAL_HASHERS
    errors = checks.run_checks(tags=[checks.Tags.security])
    assert "thuisportaal.E001" not in [error.id for error in errors]
