"""Prepared lookups (basispoort/lib/lookup.py): the same rows and objects as the ORM."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F

from accounts.models import User
from basispoort.lib.lookup import Prepared, fetch
from launcher.children import _CHILD
from launcher.models import Licence, Product, Publisher, home_products, products_for
from launcher.views import _TILES
from schools.models import Group, Pupil, School, YearLevel
from tests.test_licences import licence as make_licence
from tests.test_licences import product as make_product
from tests.test_sso import register

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def columns(obj) -> dict:
    """Every column of a model instance: its value and the value's type (1 is not True)."""
    values = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    return {name: (type(value), value) for name, value in values.items()}


def typed(rows) -> list[list]:
    return [[(type(value), value) for value in row] for row in rows]


# --- fetch() --------------------------------------------------------------------------------


def test_fetch_reads_a_user_as_the_orm_does(cast):
    user = cast.parent_a
    user.last_login = datetime(2026, 11, 28, 21, 15, 7, 123456, tzinfo=AMSTERDAM)
    user.last_home_login = datetime(2026, 7, 1, 8, 0, 0, 500, tzinfo=AMSTERDAM)
    user.name = "Ouder A"
    user.save()

    found = fetch(User, "pk", user.pk)

    assert isinstance(found, User)
    assert columns(found) == columns(User.objects.get(pk=user.pk))
    assert found.last_login == datetime(2026, 11, 28, 21, 15, 7, 123456, tzinfo=AMSTERDAM)
    assert found.last_login.tzinfo is not None
    assert found.date_joined == user.date_joined
    assert found.date_joined.tzinfo is not None
    assert found.is_active is True
    assert found.is_superuser is False
    assert found._state.adding is False
    assert found._state.db == "default"


def test_fetch_reads_empty_and_true_columns_as_the_orm_does(cast):
    """A superuser who never logged in: NULL datetimes, a true flag."""
    found = fetch(User, "pk", cast.superuser.pk)
    assert columns(found) == columns(User.objects.get(pk=cast.superuser.pk))
    assert found.last_login is None
    assert found.last_home_login is None
    assert found.is_superuser is True


def test_fetch_finds_a_row_by_another_unique_column(cast):
    assert fetch(User, "email", "ouder.b@example.com").pk == cast.parent_b.pk
    assert fetch(User, "code", cast.parent_b.code).pk == cast.parent_b.pk
    assert fetch(User, "code", str(cast.parent_b.code)).pk == cast.parent_b.pk


@pytest.mark.parametrize("form", [lambda code: code, str, lambda code: code.hex])
def test_fetch_reads_a_pupil_by_its_uuid_as_the_orm_does(cast, form):
    locked_at = datetime(2026, 1, 4, tzinfo=AMSTERDAM)
    Pupil.objects.filter(pk=cast.lotte.pk).update(
        left_on=date(2026, 1, 5), failed_attempts=10, locked_at=locked_at
    )
    for pupil in (cast.emma, cast.daan, cast.lotte):
        found = fetch(Pupil, "pk", form(pupil.code))
        assert isinstance(found, Pupil)
        assert columns(found) == columns(Pupil.objects.get(pk=pupil.pk))

    lotte = fetch(Pupil, "pk", form(cast.lotte.code))
    assert lotte.code == cast.lotte.code
    assert lotte.left_on == date(2026, 1, 5)
    assert lotte.locked_at == locked_at
    assert lotte.failed_attempts == 10
    assert fetch(Pupil, "pk", form(cast.emma.code)).home_login_enabled is True


def test_fetch_gives_none_for_an_unknown_key(cast):
    highest = User.objects.order_by("-pk").first().pk
    assert fetch(User, "pk", highest + 1000) is None
    assert fetch(User, "pk", -1) is None
    assert fetch(User, "email", "niemand@example.com") is None
    assert fetch(Pupil, "pk", uuid.uuid4()) is None
    assert fetch(Pupil, "pk", str(uuid.uuid4())) is None


@pytest.mark.parametrize(
    ("model", "value"),
    [
        (User, "abc"),
        (User, ""),
        (User, "1.5"),
        (User, None),
        (User, [1]),
        (Pupil, "not-a-uuid"),
        (Pupil, ""),
        (Pupil, None),
        (Pupil, "1234"),
    ],
)
def test_fetch_gives_none_for_a_value_the_column_cannot_hold(cast, model, value):
    assert fetch(model, "pk", value) is None


# --- Prepared.rows() ------------------------------------------------------------------------

_PUPILS_OF_SCHOOL = Prepared(
    lambda school: (
        Pupil.objects.filter(school=school)
        .order_by("first_name")
        .values_list(
            "code", "first_name", "home_login_enabled", "left_on", "created_at", "group__name"
        )
    ),
    parameters=(School._meta.pk,),
)


def test_rows_equal_the_orm_values_list(cast):
    Pupil.objects.filter(pk=cast.lotte.pk).update(left_on=date(2026, 1, 5))
    for school in (cast.school_x, cast.school_y, cast.school_x):
        expected = [list(row) for row in _PUPILS_OF_SCHOOL.build(school.pk)]
        assert expected  # both schools have pupils: an empty list would prove nothing
        assert typed(_PUPILS_OF_SCHOOL.rows(school.pk)) == typed(expected)
        assert typed(_PUPILS_OF_SCHOOL.rows(str(school.pk))) == typed(expected)


def test_rows_of_the_tile_page_equal_the_orm(cast):
    Pupil.objects.filter(pk=cast.daan.pk).update(home_login_enabled=True)
    Pupil.objects.filter(pk=cast.yara.pk).update(home_login_enabled=True)
    for parent in (cast.parent_a, cast.parent_b, cast.teacher_x):
        expected = [list(row) for row in _TILES.build(parent.pk)]
        assert typed(_TILES.rows(parent.pk)) == typed(expected)
    assert [row[1] for row in _TILES.rows(cast.parent_a.pk)] == ["Daan", "Emma"]


@pytest.mark.parametrize("value", ["not-a-uuid", "", None, "abc"])
def test_rows_give_nothing_for_a_value_the_column_cannot_hold(cast, value):
    assert _PUPILS_OF_SCHOOL.rows(cast.school_x.pk)  # the same query finds rows for a real key
    assert _PUPILS_OF_SCHOOL.rows(value) == []


def test_rows_give_nothing_for_a_junk_user_id(cast):
    assert _TILES.rows("abc") == []
    assert _TILES.rows(None) == []


def test_a_date_parameter_used_twice_is_bound_in_both_places(cast):
    product = Product.objects.create(
        publisher=Publisher.objects.create(name="Uitgeverij Klimop"),
        name="Rekenrups",
        launch_url="https://rekenrups.example.org/start",
    )
    autumn = Licence.objects.create(
        school=cast.school_x,
        product=product,
        valid_from=date(2026, 8, 1),
        valid_until=date(2026, 12, 31),
    )
    spring = Licence.objects.create(
        school=cast.school_x,
        product=product,
        valid_from=date(2027, 1, 1),
        valid_until=date(2027, 7, 31),
    )
    current = Prepared(
        lambda day: (
            Licence.objects.filter(valid_from__lte=day, valid_until__gte=day)
            .order_by("valid_from")
            .values_list("code", flat=True)
        ),
        parameters=(Licence._meta.get_field("valid_from"),),
    )
    cases = {
        date(2026, 7, 31): [],
        date(2026, 8, 1): [autumn.pk],
        date(2026, 12, 31): [autumn.pk],
        date(2027, 1, 1): [spring.pk],
        date(2027, 3, 1): [spring.pk],
        date(2027, 8, 1): [],
    }
    for day, codes in cases.items():
        assert list(Licence.objects.current(day).values_list("code", flat=True)) == codes
        assert current.rows(day) == [[code] for code in codes]
        assert current.rows(day.isoformat()) == [[code] for code in codes]
        midnight = datetime(day.year, day.month, day.day, tzinfo=AMSTERDAM)
        assert current.rows(midnight) == [[code] for code in codes]


def test_a_build_that_ignores_its_parameter_raises_value_error(cast):
    ignores = Prepared(
        lambda school: Pupil.objects.order_by("code").values_list("code"),
        parameters=(School._meta.pk,),
    )
    with pytest.raises(ValueError, match="does not use its parameter"):
        ignores.rows(cast.school_x.pk)
    with pytest.raises(ValueError, match="does not use its parameter"):
        ignores.objects(cast.school_x.pk)


def test_a_build_that_ignores_its_second_parameter_raises_value_error(cast):
    ignores = Prepared(
        lambda school, group: Pupil.objects.filter(school=school),
        parameters=(School._meta.pk, Group._meta.pk),
    )
    with pytest.raises(ValueError, match="does not use its parameter"):
        ignores.objects(cast.school_x.pk, cast.group_x5.pk)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (School._meta.get_field("name"), "De Regenboog"),
        (School._meta.get_field("created_at"), datetime(2026, 1, 1, tzinfo=AMSTERDAM)),
        (School._meta.get_field("home_login_allowed"), True),
    ],
    ids=["char", "datetime", "boolean"],
)
def test_an_unsupported_parameter_type_raises_type_error(cast, field, value):
    prepared = Prepared(
        lambda given: School.objects.filter(**{field.name: given}).values_list("code"),
        parameters=(field,),
    )
    with pytest.raises(TypeError, match="only integer, UUID and date parameters"):
        prepared.rows(value)


# --- Prepared.objects() ---------------------------------------------------------------------


def test_objects_give_the_child_of_a_session_with_school_and_group_in_one_query(
    cast, django_assert_num_queries
):
    with django_assert_num_queries(1):
        [pupil] = _CHILD.objects(cast.emma.code, cast.parent_a.pk)
        assert pupil.school.name == "De Regenboog"
        assert pupil.group.name == "Groep 5"
        assert pupil.parent_password == cast.parent_a.password

    expected = Pupil.objects.select_related("school", "group").get(pk=cast.emma.pk)
    assert isinstance(pupil, Pupil)
    assert columns(pupil) == columns(expected)
    assert columns(pupil.school) == columns(expected.school)
    assert columns(pupil.group) == columns(expected.group)
    assert pupil._state.adding is False
    assert pupil.school._state.adding is False


def test_objects_give_nothing_for_another_parent_or_a_junk_value(cast):
    assert _CHILD.objects(cast.emma.code, cast.parent_a.pk)
    assert _CHILD.objects(cast.emma.code, cast.parent_b.pk) == []
    assert _CHILD.objects(cast.daan.code, cast.parent_a.pk) == []  # home login off
    assert _CHILD.objects("not-a-uuid", cast.parent_a.pk) == []
    assert _CHILD.objects(cast.emma.code, "junk") == []


def test_objects_equal_the_orm_with_related_and_extra(cast, django_assert_num_queries):
    Pupil.objects.filter(pk=cast.lotte.pk).update(left_on=date(2026, 1, 5))
    pupils = Prepared(
        lambda school: Pupil.objects.filter(school=school).order_by("first_name"),
        parameters=(School._meta.pk,),
        related=("school", "group"),
        extra=(("level", "group__year_level"), ("school_brin", "school__brin")),
    )
    for school in (cast.school_x, cast.school_y):
        expected = list(
            Pupil.objects.filter(school=school)
            .select_related("school", "group")
            .annotate(level=F("group__year_level"))
            .order_by("first_name")
        )
        with django_assert_num_queries(1):
            found = pupils.objects(school.pk)
            shown = [(p.school.name, p.group.name, p.level, p.school_brin) for p in found]
        assert found == expected
        assert [columns(p) for p in found] == [columns(p) for p in expected]
        assert [columns(p.group) for p in found] == [columns(p.group) for p in expected]
        assert shown == [(p.school.name, p.group.name, p.level, school.brin) for p in expected]


_PRODUCT_WITH_CLIENT = Prepared(
    lambda code: Product.objects.filter(code=code),
    parameters=(Product._meta.pk,),
    related=("client",),
)


def test_objects_leave_an_empty_nullable_foreign_key_none_without_a_query(
    cast, django_assert_num_queries
):
    publisher = Publisher.objects.create(name="Uitgeverij Klimop")
    plain = Product.objects.create(
        publisher=publisher, name="Taaltuin", launch_url="https://taaltuin.example.org/start"
    )
    with_client = register(cast.school_x, publisher, "Rekenrups").product

    with django_assert_num_queries(1):
        [found] = _PRODUCT_WITH_CLIENT.objects(plain.code)
        assert found.client is None
    assert columns(found) == columns(Product.objects.get(pk=plain.pk))

    with django_assert_num_queries(1):
        [found] = _PRODUCT_WITH_CLIENT.objects(with_client.code)
        assert found.client.name == "Rekenrups inloggen"
    expected = Product.objects.select_related("client").get(pk=with_client.pk)
    assert columns(found) == columns(expected)
    assert columns(found.client) == columns(expected.client)


# --- home_products() ------------------------------------------------------------------------


@pytest.fixture
def catalogue(cast):
    """Products licensed in every way a licence can cover a pupil, or not cover them."""
    publisher = Publisher.objects.create(name="Uitgeverij Klimop")
    always = {"start": date(2000, 1, 1), "end": date(2100, 1, 1)}

    def product(name, **extra):
        return make_product(publisher, name, **extra)

    def licence(school, item, **extra):
        return make_licence(school, item, **{**always, **extra})

    today = date.today()
    licence(cast.school_x, product("Rekenrups"))
    licence(cast.school_x, product("Alfabet"))
    licence(
        cast.school_x,
        product("Taaltuin"),
        scope=Licence.Scope.GROUPS,
        groups=[cast.group_x5],
    )
    licence(
        cast.school_x,
        product("Klokkijken"),
        scope=Licence.Scope.YEAR_LEVELS,
        year_levels=[YearLevel.GROUP_2, YearLevel.GROUP_7],
    )
    licence(cast.school_x, product("Schoolbord", usable_at_home=False))
    licence(cast.school_x, product("Verlopen"), end=today - timedelta(days=400))
    licence(cast.school_x, product("Toekomst"), start=today + timedelta(days=400))
    licence(cast.school_y, product("Zonnewijzer Lezen"))
    # The same product twice for one school: shown once.
    twice = product("Dubbel")
    licence(cast.school_x, twice)
    licence(cast.school_x, twice, scope=Licence.Scope.GROUPS, groups=[cast.group_x5])

    Pupil.objects.filter(pk__in=[cast.daan.pk, cast.lotte.pk, cast.yara.pk]).update(
        home_login_enabled=True
    )
    return publisher


def pupils_of(cast) -> list[Pupil]:
    combined = Group.objects.create(
        school=cast.school_x, name="Groep 1/2", year_level=YearLevel.COMBINED
    )
    sam = Pupil.objects.create(
        group=combined,
        first_name="Sam",
        last_name="Jansen",
        year_level=YearLevel.GROUP_2,
        home_login_enabled=True,
    )
    return [
        Pupil.objects.get(pk=pupil.pk) for pupil in (cast.emma, cast.daan, cast.lotte, cast.yara)
    ] + [sam]


def test_home_products_equal_products_for(cast, catalogue):
    shown = {}
    for pupil in pupils_of(cast):
        found = home_products(pupil)
        expected = list(products_for(pupil))
        assert found == expected, pupil.first_name
        assert [columns(item) for item in found] == [columns(item) for item in expected]
        shown[pupil.first_name] = [item.name for item in found]
    assert shown == {
        "Emma": ["Alfabet", "Dubbel", "Rekenrups", "Taaltuin"],
        "Daan": ["Alfabet", "Dubbel", "Klokkijken", "Rekenrups"],
        "Lotte": ["Alfabet", "Dubbel", "Klokkijken", "Rekenrups"],
        "Yara": ["Zonnewijzer Lezen"],
        "Sam": ["Alfabet", "Dubbel", "Klokkijken", "Rekenrups"],
    }


def test_home_products_follow_a_deleted_licence(cast, catalogue):
    emma = Pupil.objects.get(pk=cast.emma.pk)
    assert "Taaltuin" in [item.name for item in home_products(emma)]

    Licence.objects.filter(product__name="Taaltuin").delete()

    assert [item.name for item in home_products(emma)] == ["Alfabet", "Dubbel", "Rekenrups"]
    assert home_products(emma) == list(products_for(emma))


def test_home_products_follow_the_end_and_start_of_a_licence_period(cast, time_machine):
    time_machine.move_to(datetime(2026, 11, 28, 12, 0, tzinfo=AMSTERDAM), tick=False)
    publisher = Publisher.objects.create(name="Uitgeverij Klimop")
    ending, starting = (
        Product.objects.create(publisher=publisher, name=name, launch_url=f"https://{name}.example")
        for name in ("ending", "starting")
    )
    Licence.objects.create(
        school=cast.school_x,
        product=ending,
        valid_from=date(2026, 8, 1),
        valid_until=date(2026, 11, 28),
    )
    Licence.objects.create(
        school=cast.school_x,
        product=starting,
        valid_from=date(2026, 11, 29),
        valid_until=date(2027, 7, 31),
    )
    emma = Pupil.objects.get(pk=cast.emma.pk)
    assert home_products(emma) == [ending]

    time_machine.move_to(datetime(2026, 11, 28, 23, 30, tzinfo=AMSTERDAM), tick=False)
    assert home_products(emma) == [ending]

    # Already the 29th in Amsterdam, though not yet in UTC.
    time_machine.move_to(datetime(2026, 11, 29, 0, 30, tzinfo=AMSTERDAM), tick=False)
    assert home_products(emma) == [starting]
    assert home_products(emma) == list(products_for(emma))


def test_home_products_give_nothing_without_home_login(cast, catalogue):
    lotte = Pupil.objects.get(pk=cast.lotte.pk)
    assert home_products(lotte)  # licensed: only the switch below takes it away

    Pupil.objects.filter(pk=cast.lotte.pk).update(home_login_enabled=False)
    lotte = Pupil.objects.get(pk=cast.lotte.pk)
    assert home_products(lotte) == []
    assert list(products_for(lotte)) == []


def test_home_products_give_nothing_to_a_pupil_who_left(cast, catalogue):
    emma = Pupil.objects.get(pk=cast.emma.pk)
    assert home_products(emma)
    emma.left_on = date(2026, 1, 5)  # not saved: the database refuses home login for leavers
    assert home_products(emma) == []


# --- integer parameters of every width, and values out of a column's range -------------------


def test_a_small_integer_parameter_is_prepared(cast):
    by_length = Prepared(
        lambda length: (
            School.objects.filter(picture_password_length=length)
            .order_by("name")
            .values_list("name", flat=True)
        ),
        parameters=(School._meta.get_field("picture_password_length"),),
    )
    for length in (1, 2, 3):
        expected = School.objects.filter(picture_password_length=length).order_by("name")
        assert [row[0] for row in by_length.rows(length)] == [s.name for s in expected]
    assert by_length.rows(2), "the cast has schools with two pictures"
    assert by_length.rows(70_000) == []  # beyond a small integer: no row, as the ORM says


@pytest.mark.parametrize("huge", [2**63, -(2**63) - 1, 10**30])
def test_an_id_beyond_the_column_range_finds_nothing(cast, huge):
    from accounts.backends import AccountBackend

    assert fetch(User, "pk", huge) is None
    assert AccountBackend().get_user(str(huge)) is None
    assert _TILES.rows(huge) == []


def test_a_wrong_number_of_values_is_a_mistake_not_an_empty_answer(cast):
    with pytest.raises(TypeError):
        _TILES.rows()
    with pytest.raises(TypeError):
        _CHILD.objects(cast.emma.pk)


def test_a_value_used_through_a_transform_is_refused_when_compiled(cast):
    """A date's year would keep the stand-in for good and widen the match: refused."""
    ending = Prepared(
        lambda day: Licence.objects.filter(
            valid_from__lte=day, valid_until__year__gte=day.year
        ).values_list("code", flat=True),
        parameters=(Licence._meta.get_field("valid_from"),),
    )
    with pytest.raises(ValueError, match="cannot be bound again"):
        ending.rows(date(2030, 6, 1))
