"""Which products a pupil sees: licence dates, scope, the home flag and home login."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from launcher.models import Licence, Product, Publisher, products_for

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 28)


@pytest.fixture
def publisher():
    return Publisher.objects.create(name="Uitgeverij Klimop")


def product(publisher, name, **extra):
    return Product.objects.create(
        publisher=publisher, name=name, launch_url=f"https://{name.lower()}.example", **extra
    )


def licence(school, product, start=date(2026, 8, 1), end=date(2027, 7, 31), **extra):
    year_levels = extra.pop("year_levels", [])
    groups = extra.pop("groups", [])
    item = Licence(school=school, product=product, valid_from=start, valid_until=end, **extra)
    item.year_levels = year_levels
    item.save()
    item.groups.set(groups)
    return item


def names(pupil, today=TODAY):
    return [item.name for item in products_for(pupil, today)]


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        (TODAY, TODAY, True),
        (date(2026, 11, 29), date(2027, 7, 31), False),
        (date(2026, 8, 1), date(2026, 11, 27), False),
        (date(2026, 8, 1), TODAY, True),
    ],
    ids=["one-day", "starts-tomorrow", "ended-yesterday", "ends-today"],
)
def test_it_counts_both_ends_of_the_licence_period(cast, publisher, start, end, shown):
    licence(cast.school_x, product(publisher, "Rekenrups"), start, end)
    assert names(cast.emma) == (["Rekenrups"] if shown else [])


def test_it_uses_the_date_in_amsterdam(cast, publisher, time_machine):
    licence(cast.school_x, product(publisher, "Rekenrups"), start=date(2026, 11, 29))
    time_machine.move_to("2026-11-28 23:30 +00:00")  # already the 29th in Amsterdam
    assert [item.name for item in products_for(cast.emma)] == ["Rekenrups"]


def test_it_limits_a_licence_to_chosen_groups(cast, publisher):
    licence(
        cast.school_x,
        product(publisher, "Taaltuin"),
        scope=Licence.Scope.GROUPS,
        groups=[cast.group_x5],
    )
    assert names(cast.emma) == ["Taaltuin"]
    assert names(cast.daan) == []


def test_it_limits_a_licence_to_chosen_year_levels(cast, publisher):
    licence(
        cast.school_x,
        product(publisher, "Klokkijken"),
        scope=Licence.Scope.YEAR_LEVELS,
        year_levels=["2", "3"],
    )
    cast.daan.home_login_enabled = True
    cast.daan.save()
    assert names(cast.daan) == ["Klokkijken"]
    assert names(cast.emma) == []


def test_it_matches_whole_year_levels_only(cast, publisher):
    # Stored as ",2,3,": the level "5" must not match a list holding only "2" and "3".
    licence(
        cast.school_x,
        product(publisher, "Klokkijken"),
        scope=Licence.Scope.YEAR_LEVELS,
        year_levels=["2", "3"],
    )
    assert Licence.objects.get().year_levels_text == ",2,3,"
    assert names(cast.emma) == []


def test_it_hides_products_not_for_home(cast, publisher):
    licence(cast.school_x, product(publisher, "Schoolbord", usable_at_home=False))
    licence(cast.school_x, product(publisher, "Rekenrups"))
    assert names(cast.emma) == ["Rekenrups"]


def test_it_shows_nothing_without_home_login_or_after_leaving(cast, publisher):
    licence(cast.school_x, product(publisher, "Rekenrups"))
    assert names(cast.daan) == []  # home login off
    cast.emma.mark_left()
    assert names(cast.emma) == []


def test_it_shows_nothing_of_another_schools_licence(cast, publisher):
    licence(cast.school_y, product(publisher, "Rekenrups"))
    assert names(cast.emma) == []


def test_it_shows_a_product_once_with_two_licences(cast, publisher):
    rekenrups = product(publisher, "Rekenrups")
    licence(cast.school_x, rekenrups)
    licence(cast.school_x, rekenrups, scope=Licence.Scope.GROUPS, groups=[cast.group_x5])
    assert names(cast.emma) == ["Rekenrups"]


def test_it_uses_the_same_number_of_queries_for_1_and_50_products(
    cast, publisher, django_assert_num_queries
):
    licence(cast.school_x, product(publisher, "Product 0"))
    with django_assert_num_queries(1):
        assert len(list(products_for(cast.emma, TODAY))) == 1
    for number in range(1, 50):
        licence(cast.school_x, product(publisher, f"Product {number}"))
    with django_assert_num_queries(1):
        assert len(list(products_for(cast.emma, TODAY))) == 50


def test_it_refuses_a_reversed_period_in_the_database(cast, publisher):
    with pytest.raises(IntegrityError), transaction.atomic():
        licence(cast.school_x, product(publisher, "Rekenrups"), TODAY, date(2026, 1, 1))


def test_it_refuses_a_group_of_another_school(cast, publisher):
    item = licence(cast.school_x, product(publisher, "Rekenrups"), scope=Licence.Scope.GROUPS)
    with pytest.raises(ValidationError), transaction.atomic():
        item.groups.add(cast.group_y5)
    assert not item.groups.exists()


def test_it_shows_staff_their_own_schools_licences_read_only(client, cast, publisher):
    own = licence(cast.school_x, product(publisher, "Rekenrups"))
    other = licence(cast.school_y, product(publisher, "Taaltuin"))
    client.force_login(cast.teacher_x)
    listing = client.get(reverse("admin:launcher_licence_changelist")).content.decode()
    assert "Rekenrups" in listing
    assert "Taaltuin" not in listing
    assert client.get(reverse("admin:launcher_licence_change", args=[other.pk])).status_code == 404
    page = client.get(reverse("admin:launcher_licence_change", args=[own.pk]))
    assert page.status_code == 200
    assert 'name="valid_until"' not in page.content.decode()  # shown, not editable
    response = client.post(
        reverse("admin:launcher_licence_change", args=[own.pk]),
        {"valid_from": "2020-01-01", "valid_until": "2030-01-01"},
    )
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.valid_from == date(2026, 8, 1)


def test_it_lets_only_operators_manage_the_catalogue(client, cast, publisher):
    client.force_login(cast.ict_x)
    assert client.get(reverse("admin:launcher_product_add")).status_code == 403
    assert client.get(reverse("admin:launcher_publisher_changelist")).status_code == 403
    client.force_login(cast.superuser)
    response = client.post(
        reverse("admin:launcher_product_add"),
        {
            "publisher": publisher.pk,
            "name": "Tafelturbo",
            "icon": "tafelturbo",
            "launch_url": "https://tafelturbo.example/start",
            "usable_at_home": "on",
            "year_levels": ["4", "5"],
        },
    )
    assert response.status_code == 302
    assert Product.objects.get(name="Tafelturbo").year_levels == ["4", "5"]
