"""Families for the load benchmark: N copies of the demo family, written in bulk.

Run after ``seed_demo`` (it needs De Regenboog, its groups and the catalogue). Each copy is a
parent ``bench<NNNN>@example.com`` with the demo password and two children at De Regenboog:
"Emma" in Groep 5 with PIN 2468 (so she sees Tafelturbo, licensed for Groep 5) and "Daan"
in Groep 2 with the picture password kat, zon: the tile page shows two tiles, as for the
demo parent.

Hashing is the slow part of seeding (Argon2 on purpose), so the password, the PIN and the
picture password are hashed once and the same hash is written to every row. Rows are made
with ``bulk_create``, which skips ``save()``: the pupils' school is set by hand here, as
``Pupil.save()`` would.
"""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import transaction

from basispoort.lib.hashers import make_child_secret

PASSWORD = "thuisportaal-demo"  # noqa: S105 (the published demo password)
PIN = "2468"
PICTURES = ["kat", "zon"]
PREFIX = "bench"


def family_email(index: int) -> str:
    return f"{PREFIX}{index:04d}@example.com"


@transaction.atomic
def seed_families(count: int) -> None:
    from accounts.models import ParentLink, User
    from schools.management.commands.seed_demo import DEMO_BRIN, DEMO_LOCATION
    from schools.models import LoginMethod, Pupil, School

    school = School.objects.get(brin=DEMO_BRIN, location_code=DEMO_LOCATION)
    group_5 = school.groups.get(name="Groep 5")
    group_2 = school.groups.get(name="Groep 2")

    password_hash = make_password(PASSWORD)
    pin_hash = make_child_secret(PIN)
    template = Pupil(school=school, group=group_2)
    template.set_picture_password(PICTURES)
    pictures_hash = template.picture_password_hash

    parents = User.objects.bulk_create(
        User(email=family_email(index), password=password_hash) for index in range(count)
    )
    emmas = Pupil.objects.bulk_create(
        Pupil(
            school=school,
            group=group_5,
            external_key=f"BENCH{index:04d}E",
            first_name="Emma",
            last_name=f"Bench {index}",
            login_method=LoginMethod.PIN,
            pin_hash=pin_hash,
            home_login_enabled=True,
        )
        for index in range(count)
    )
    daans = Pupil.objects.bulk_create(
        Pupil(
            school=school,
            group=group_2,
            external_key=f"BENCH{index:04d}D",
            first_name="Daan",
            last_name=f"Bench {index}",
            login_method=LoginMethod.PICTURES,
            picture_password_hash=pictures_hash,
            home_login_enabled=True,
        )
        for index in range(count)
    )
    ParentLink.objects.bulk_create(
        ParentLink(pupil=child, user=parent, slot=1)
        for parent, emma, daan in zip(parents, emmas, daans, strict=True)
        for child in (emma, daan)
    )
