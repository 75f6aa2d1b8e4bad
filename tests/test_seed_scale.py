"""seed_scale: fictional national-scale data, written in bulk, for performance work.

What these tests pin down besides counts and shapes:
- every school has 50–600 pupils; only a run of fewer than 50 pupils makes one smaller school
  (the plan never leaves a small rest for the end);
- a second run adds: BRINs and parents' addresses go on after the ones in use, the catalogue
  is reused, and the same --seed gives the same schools again under new BRINs;
- the number of queries does not grow with the pupils, only by one write per extra batch.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ParentLink, User
from launcher.models import Licence, Product, Publisher
from schools.models import Group, LoginMethod, Pupil, School, StaffMembership, StaffRole

pytestmark = pytest.mark.django_db

PASSWORD = "thuisportaal-bench"
LicenceGroup = Licence.groups.through
MODELS = (
    School, Group, Pupil, User, ParentLink, StaffMembership, Licence, LicenceGroup, Publisher,
    Product,
)  # fmt: skip


def seed(pupils: int = 500, **options) -> str:
    out = StringIO()
    call_command("seed_scale", pupils=pupils, stdout=out, **options)
    return out.getvalue()


def printed(output: str, label: str) -> str:
    return re.search(rf"{label}:\s+(\S+@example\.net)", output).group(1)


def counts() -> dict:
    return {model: model.objects.count() for model in MODELS}


def test_schools_groups_and_pupils():
    seed(500)
    assert Pupil.objects.count() == 500
    sizes = list(School.objects.annotate(n=Count("pupils")).values_list("n", flat=True))
    assert sum(sizes) == 500 and all(50 <= size <= 600 for size in sizes)
    assert School.objects.filter(location_code="00", picture_password_length=2).count() == len(
        sizes
    )
    assert all(
        re.fullmatch(r"[0-9]{2}[A-Z0-9]{2}", b)
        for b in School.objects.values_list("brin", flat=True)
    )
    for school in School.objects.all():
        levels = set(school.groups.values_list("year_level", flat=True))
        assert levels == {str(level) for level in range(1, 9)}
    assert not Group.objects.annotate(n=Count("pupils")).filter(n__gt=30).exists()
    assert not Pupil.objects.exclude(school=F("group__school")).exists()

    # PIN from group 3, pictures in groups 1 and 2; every pupil has its key.
    young = Pupil.objects.filter(group__year_level__in=["1", "2"])
    assert young.exists() and set(young.values_list("login_method", flat=True)) == {
        LoginMethod.PICTURES
    }
    assert (
        not young.exclude(pin_hash="").exists()
        and not young.filter(picture_password_hash="").exists()
    )
    older = Pupil.objects.exclude(group__year_level__in=["1", "2"])
    assert set(older.values_list("login_method", flat=True)) == {LoginMethod.PIN}
    assert (
        not older.filter(pin_hash="").exists()
        and not older.exclude(picture_password_hash="").exists()
    )
    assert not Pupil.objects.filter(external_key="").exists()
    assert 1 <= Pupil.objects.exclude(eck_id="").count() <= 40  # about 3%
    assert 0.7 <= Pupil.objects.filter(home_login_enabled=True).count() / 500 <= 0.9
    assert not Pupil.objects.filter(left_on__isnull=False).exists()


def test_families_share_a_school_and_one_or_two_parents():
    output = seed(500)
    children = Counter(ParentLink.objects.filter(slot=1).values_list("user", flat=True))
    assert ParentLink.objects.filter(slot=1).count() == 500  # every pupil has a first parent
    assert set(children.values()) <= set(range(1, 7)) and {1, 2, 3} <= set(children.values())
    one_school = ParentLink.objects.values("user").annotate(n=Count("pupil__school", distinct=True))
    assert set(one_school.values_list("n", flat=True)) == {1}

    # A second parent has exactly the children of a first parent: one family.
    families = defaultdict(set)
    for user, slot, pupil in ParentLink.objects.values_list("user", "slot", "pupil"):
        families[user, slot].add(pupil)
    firsts = {frozenset(p) for (_, slot), p in families.items() if slot == 1}
    seconds = [frozenset(p) for (_, slot), p in families.items() if slot == 2]
    assert all(family in firsts for family in seconds)
    assert 0.2 <= len(seconds) / len(firsts) <= 0.4

    parents = len(firsts) + len(seconds)
    emails = set(User.objects.filter(memberships__isnull=True).values_list("email", flat=True))
    assert emails == {f"ouder{n}@example.net" for n in range(1, parents + 1)}

    six = User.objects.get(email=printed(output, "ouder met 6 kinderen"))
    one = User.objects.get(email=printed(output, "ouder met 1 kind"))
    assert six.parent_links.count() == 6 and one.parent_links.count() == 1
    for parent in (six, one):  # they see their children's tiles after logging in
        pupils = Pupil.objects.filter(parent_links__user=parent)
        assert all(pupil.home_login_enabled for pupil in pupils)
        assert all(pupil.school.home_login_available for pupil in pupils)
    assert authenticate(username=printed(output, "inloggen als ouder"), password=PASSWORD)


def test_the_secrets_are_hashed_once_and_work():
    seed(500)
    assert Pupil.objects.exclude(pin_hash="").values("pin_hash").distinct().count() == 1
    assert (
        Pupil.objects.exclude(picture_password_hash="")
        .values("picture_password_hash")
        .distinct()
        .count()
        == 1
    )
    assert User.objects.values("password").distinct().count() == 1
    assert Pupil.objects.filter(login_method=LoginMethod.PIN).first().check_pin("2468")
    pictures = Pupil.objects.filter(login_method=LoginMethod.PICTURES).first()
    assert pictures.check_picture_password(["kat", "zon"])
    assert authenticate(username=User.objects.first().email, password=PASSWORD)


def test_one_ict_coordinator_per_school():
    seed(500)
    schools = School.objects.count()
    memberships = StaffMembership.objects.select_related("user", "school")
    assert memberships.count() == schools == memberships.values("school").distinct().count()
    for membership in memberships:
        assert membership.role == StaffRole.ICT_COORDINATOR
        assert membership.user.email == f"ict-{membership.school.brin.lower()}@example.net"
        assert membership.user.is_staff
    assert authenticate(username=memberships.first().user.email, password=PASSWORD)


def test_catalogue_and_licences():
    seed(500)
    assert Publisher.objects.count() == 10
    assert Product.objects.count() == 50
    assert Product.objects.filter(usable_at_home=True).count() >= 40
    per_school = School.objects.annotate(n=Count("licences")).values_list("n", flat=True)
    assert all(5 <= n <= 15 for n in per_school)
    licences = Licence.objects.all()
    assert {"school", "year_levels"} <= set(licences.values_list("scope", flat=True))
    for licence in licences:
        if licence.scope == Licence.Scope.YEAR_LEVELS:
            assert re.fullmatch(r",([1-8],)+", licence.year_levels_text)
        else:
            assert licence.year_levels_text == ""
        assert licence.groups.exists() == (licence.scope == Licence.Scope.GROUPS)
    assert not LicenceGroup.objects.exclude(group__school=F("licence__school")).exists()
    current = Licence.objects.current(timezone.localdate()).count()
    assert current >= licences.count() / 2


def test_a_second_run_adds_the_same_schools_under_new_brins_and_addresses():
    first = seed(500, seed=1)
    before = counts()
    schools = list(School.objects.order_by("brin").values_list("brin", "name"))
    second = seed(500, seed=1)
    after = counts()

    for model in (School, Group, Pupil, User, ParentLink, StaffMembership, Licence):
        assert after[model] == 2 * before[model], model
    assert after[Publisher] == 10 and after[Product] == 50  # the catalogue is reused
    assert School.objects.values("brin").distinct().count() == after[School]
    new = list(School.objects.exclude(brin__in=[b for b, _ in schools]).order_by("brin"))
    assert [school.name for school in new] == [name for _, name in schools]  # same --seed
    assert min(school.brin for school in new) > max(brin for brin, _ in schools)
    assert printed(first, "ouder met 6 kinderen") != printed(second, "ouder met 6 kinderen")
    assert User.objects.values("email").distinct().count() == after[User]


def test_a_different_seed_gives_other_schools():
    seed(500, seed=1)
    first = list(School.objects.order_by("brin").values_list("name", flat=True))
    seed(500, seed=2)
    second = list(School.objects.order_by("brin").values_list("name", flat=True))[len(first) :]
    assert second and second != first


def test_fewer_than_50_pupils_make_one_small_school():
    output = seed(4)
    school = School.objects.get()
    assert school.pupils.count() == 4
    assert "geen: te weinig leerlingen" in output
    with pytest.raises(CommandError):
        seed(0)


def test_the_query_count_only_grows_by_batches():
    """Each table is written in ceil(rows / batch) statements; everything else is fixed."""
    batch = 100
    per_run = []
    for pupils in (200, 2000):
        before = counts()
        with CaptureQueriesContext(connection) as queries:
            seed(pupils, batch_size=batch)
        rows = {m._meta.db_table: n - before[m] for m, n in counts().items()}
        writes, other = Counter(), 0
        for query in queries.captured_queries:
            sql = query["sql"]
            if match := re.match(r'(?:INSERT INTO|COPY) "?(\w+)"?', sql):
                writes[match.group(1)] += 1
            elif "nextval" in sql:  # PostgreSQL: one batch of user ids reserved
                writes["user ids"] += 1
            else:
                other += 1
        expected = {table: math.ceil(n / batch) for table, n in rows.items() if n}
        if connection.vendor == "postgresql":
            expected["user ids"] = expected["accounts_user"]
        assert writes == expected, pupils
        per_run.append((other, sum(writes.values()), rows["schools_pupil"]))
    (other_small, writes_small, _), (other_big, writes_big, _) = per_run
    assert other_small == other_big  # flat: nothing per school, family or pupil
    assert writes_big > writes_small
