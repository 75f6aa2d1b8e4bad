"""Tiles, the PIN pad and picture grid, the software page, the launch and the child session."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from accounts.parents import set_parent_emails
from launcher.children import CHILD_IDLE
from launcher.models import LaunchEvent, Licence, Product, Publisher
from schools.models import Pupil

pytestmark = pytest.mark.django_db


@pytest.fixture
def parent(client, cast):
    client.force_login(cast.parent_a)
    Pupil.objects.filter(pk=cast.daan.pk).update(home_login_enabled=True)
    return client


@pytest.fixture
def catalogue(cast):
    publisher = Publisher.objects.create(name="Uitgeverij Klimop")
    product = Product.objects.create(
        publisher=publisher,
        name="Rekenrups",
        icon="rekenrups",
        launch_url="https://rekenrups.example.org/start",
    )
    Licence.objects.create(
        school=cast.school_x,
        product=product,
        valid_from=date(2000, 1, 1),
        valid_until=date(2100, 1, 1),
    )
    return product


def tap_pin(client, pupil, pin):
    url = reverse("child-login", args=[pupil.code])
    entered = ""
    response = None
    for digit in pin:
        response = client.post(url, {"entered": entered, "key": digit})
        entered += digit
    return response


def test_it_shows_a_tile_per_child_who_can_log_in(parent, cast):
    page = parent.get(reverse("children")).content.decode()
    assert "Emma" in page and "Daan" in page
    assert reverse("child-login", args=[cast.emma.code]) in page
    assert "Yara" not in page


def test_it_explains_what_home_access_depends_on_without_tiles(client, cast):
    client.force_login(cast.parent_b)
    Pupil.objects.filter(pk=cast.yara.pk).update(home_login_enabled=False)
    page = client.get(reverse("children")).content.decode()
    assert "de leerkracht thuis inloggen voor uw kind heeft aangezet" in page
    assert "Yara" not in page


def test_it_tells_parents_of_a_network_school_to_ask_the_school(client, cast):
    cast.school_y.network_environment = "moo"
    cast.school_y.save()
    Pupil.objects.filter(pk=cast.yara.pk).update(home_login_enabled=True)
    client.force_login(cast.parent_b)
    page = client.get(reverse("children")).content.decode()
    assert "De Zonnewijzer gebruikt een eigen schoolomgeving" in page
    assert reverse("child-login", args=[cast.yara.code]) not in page


def test_it_logs_a_child_in_with_the_pin_pad_and_drops_the_parent(parent, cast, catalogue):
    response = tap_pin(parent, cast.emma, "2468")
    assert response.status_code == 302
    assert response["Location"] == reverse("software")
    page = parent.get(reverse("software")).content.decode()
    assert "Hoi Emma!" in page and "Rekenrups" in page
    # The parent's rights are gone: a sibling needs the parent's password again.
    response = parent.get(reverse("child-login", args=[cast.daan.code]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("home"))


def test_it_counts_a_wrong_pin_and_shows_a_friendly_retry(parent, cast):
    url = reverse("child-login", args=[cast.emma.code])
    response = tap_pin(parent, cast.emma, "1111")
    # Post/redirect/get: reloading the page afterwards sends nothing again.
    assert response.status_code == 302
    assert response["Location"] == url
    assert "Dat was niet goed. Probeer het nog eens!" in parent.get(url).content.decode()
    assert Pupil.objects.get(pk=cast.emma.pk).failed_attempts == 1
    again = parent.get(url).content.decode()
    assert "Dat was niet goed" not in again
    assert Pupil.objects.get(pk=cast.emma.pk).failed_attempts == 1


def test_it_counts_nothing_before_the_entry_is_complete(parent, cast):
    url = reverse("child-login", args=[cast.emma.code])
    response = parent.post(url, {"entered": "12", "key": "3"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="entered" value="123"' in page
    assert "3 van de 4 cijfers" in page  # read out by a screen reader
    assert page.count('class="dot filled"') == 3
    response = parent.post(url, {"entered": "123", "key": "wis"})
    assert 'name="entered" value="12"' in response.content.decode()
    assert Pupil.objects.get(pk=cast.emma.pk).failed_attempts == 0


def test_it_takes_one_key_at_a_time(parent, cast):
    url = reverse("child-login", args=[cast.emma.code])
    for key in ("0123456789", "12", "", "٣", "wis2"):
        page = parent.post(url, {"entered": "123", "key": key}).content.decode()
        assert 'name="entered" value="123"' in page, key
    assert Pupil.objects.get(pk=cast.emma.pk).failed_attempts == 0


def test_it_shows_the_pictures_chosen_so_far(parent, cast):
    url = reverse("child-login", args=[cast.daan.code])
    page = parent.post(url, {"entered": "", "key": "kat"}).content.decode()
    assert 'name="entered" value="kat"' in page
    # A filled box, not the picture itself: a brother looking on learns nothing new.
    assert page.count('class="slot filled"') == 1
    assert page.count('class="slot"') == 1
    assert "1 van de 2 plaatjes" in page


def test_it_hides_the_pad_and_counts_down_during_a_wait(parent, cast):
    url = reverse("child-login", args=[cast.emma.code])
    for _ in range(5):
        tap_pin(parent, cast.emma, "1111")
    page = parent.get(url).content.decode()
    assert "Even wachten" in page and "Probeer het nog eens over 10 seconden." in page
    assert 'name="key"' not in page
    # Without script the page comes back by itself; with script it counts down and reloads.
    assert '<noscript><meta http-equiv="refresh" content="10"></noscript>' in page
    assert 'data-countdown="10"' in page


def test_it_keeps_the_parents_logout_away_from_the_pad(parent, cast):
    pad = parent.get(reverse("child-login", args=[cast.emma.code])).content.decode()
    tiles = parent.get(reverse("children")).content.decode()
    assert reverse("logout") in tiles
    assert reverse("logout") not in pad
    assert "js/children" in pad  # the script that makes the pad quicker


def test_it_never_offers_the_pin_to_a_password_manager(parent, cast):
    page = parent.get(reverse("child-login", args=[cast.emma.code])).content.decode()
    assert 'type="password"' not in page
    assert 'autocomplete="off"' in page
    assert 'name="password"' not in page


def test_it_logs_a_child_in_with_pictures(parent, cast):
    url = reverse("child-login", args=[cast.daan.code])
    page = parent.get(url).content.decode()
    assert 'alt="kat"' in page and 'alt="zon"' in page
    parent.post(url, {"entered": "", "key": "kat"})
    response = parent.post(url, {"entered": "kat", "key": "zon"})
    assert response["Location"] == reverse("software")


def test_it_shows_a_locked_child_that_the_teacher_must_unlock(parent, cast):
    Pupil.objects.filter(pk=cast.emma.pk).update(failed_attempts=10, locked_at="2026-01-01T10:00Z")
    page = parent.get(reverse("child-login", args=[cast.emma.code])).content.decode()
    assert "De juf of meester moet Emma eerst weer vrijgeven" in page
    assert 'name="key"' not in page


def test_it_refuses_another_familys_child_by_url(parent, cast):
    assert parent.get(reverse("child-login", args=[cast.yara.code])).status_code == 404
    assert parent.get(reverse("pupil-picture", args=[cast.yara.code])).status_code == 404


def test_it_launches_once_and_ends_the_session(parent, cast, catalogue, time_machine):
    time_machine.move_to("2026-11-28 16:00 +01:00", tick=False)
    tap_pin(parent, cast.emma, "2468")
    response = parent.post(reverse("launch", args=[catalogue.code]))
    started = reverse("launched", args=[catalogue.code])
    assert response["Location"] == started
    assert LaunchEvent.objects.filter(pupil=cast.emma, product=catalogue).count() == 1
    page = parent.get(started).content.decode()
    # A page of our own moves on: the CSP's form-action would block a redirect after a POST.
    assert 'http-equiv="refresh" content="0; url=https://rekenrups.example.org/start"' in page
    assert "Rekenrups gaat open" in page
    # A double click: nothing opens twice and no second launch is recorded.
    assert parent.post(reverse("launch", args=[catalogue.code]))["Location"] == started
    assert LaunchEvent.objects.count() == 1
    # The portal session is over.
    assert parent.get(reverse("software"))["Location"] == reverse("home")
    time_machine.shift(61)
    assert parent.get(started)["Location"] == reverse("home")


def test_it_ends_the_child_session_when_the_parents_password_changes(parent, cast):
    tap_pin(parent, cast.emma, "2468")
    assert parent.get(reverse("software")).status_code == 200
    cast.parent_a.set_password("Een-heel-nieuw-wachtwoord-1")
    cast.parent_a.save()
    assert parent.get(reverse("software"))["Location"] == reverse("home")


def test_it_ends_the_child_session_when_the_parent_link_is_removed(parent, cast):
    tap_pin(parent, cast.emma, "2468")
    set_parent_emails(cast.emma, [])
    assert parent.get(reverse("software"))["Location"] == reverse("home")


def test_it_gives_the_child_no_software_once_someone_logs_in(parent, cast):
    tap_pin(parent, cast.emma, "2468")
    parent.force_login(cast.parent_b)
    assert parent.get(reverse("software"))["Location"] == reverse("home")


def test_it_does_not_count_tries_for_a_child_without_a_pin(parent, cast):
    Pupil.objects.filter(pk=cast.emma.pk).update(pin_hash="")
    url = reverse("child-login", args=[cast.emma.code])
    page = parent.get(url).content.decode()
    assert "De juf of meester moet eerst een pincode maken voor Emma." in page
    assert 'name="key"' not in page
    tap_pin(parent, cast.emma, "2468")  # posted anyway, from an old page
    assert Pupil.objects.get(pk=cast.emma.pk).failed_attempts == 0


def test_it_refuses_a_product_the_child_is_not_licensed_for(parent, cast, catalogue):
    other = Product.objects.create(
        publisher=catalogue.publisher, name="Taaltuin", launch_url="https://t.example"
    )
    tap_pin(parent, cast.emma, "2468")
    assert parent.post(reverse("launch", args=[other.code])).status_code == 404
    assert not LaunchEvent.objects.exists()


def test_it_ends_an_idle_child_session(parent, cast, time_machine):
    time_machine.move_to("2026-11-28 16:00 +01:00")
    tap_pin(parent, cast.emma, "2468")
    time_machine.shift(CHILD_IDLE)
    time_machine.shift(60)
    assert parent.get(reverse("software"))["Location"] == reverse("home")


def test_it_ends_the_child_session_with_the_klaar_button(parent, cast):
    tap_pin(parent, cast.emma, "2468")
    assert parent.post(reverse("done"))["Location"] == reverse("home")
    assert parent.get(reverse("software"))["Location"] == reverse("home")


def test_it_uses_the_same_number_of_queries_for_1_and_6_children(client, cast):
    Pupil.objects.filter(pk=cast.yara.pk).update(home_login_enabled=True)
    client.force_login(cast.parent_b)
    client.get(reverse("children"))  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("children"))
    for number in range(5):
        pupil = Pupil.objects.create(
            group=cast.group_y5, first_name=f"Kind{number}", last_name="B", home_login_enabled=True
        )
        set_parent_emails(pupil, [cast.parent_b.email])
    with CaptureQueriesContext(connection) as six:
        page = client.get(reverse("children")).content.decode()
    assert page.count('class="tile"') == 6
    assert len(six) == len(one)


def test_it_uses_the_same_number_of_queries_for_1_and_50_products(parent, cast, catalogue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tap_pin(parent, cast.emma, "2468")
    with CaptureQueriesContext(connection) as one:
        parent.get(reverse("software"))
    for number in range(49):
        product = Product.objects.create(
            publisher=catalogue.publisher, name=f"P{number}", launch_url="https://p.example"
        )
        Licence.objects.create(
            school=cast.school_x,
            product=product,
            valid_from=date(2000, 1, 1),
            valid_until=date(2100, 1, 1),
        )
    with CaptureQueriesContext(connection) as fifty:
        page = parent.get(reverse("software")).content.decode()
    assert page.count('class="tile"') == 50
    assert len(fifty) == len(one)


def test_a_child_session_cannot_open_the_parent_pages(parent, cast):
    tap_pin(parent, cast.emma, "2468")
    assert parent.get(reverse("children"))["Location"] == reverse("software")
    anonymous_view = Client()
    assert anonymous_view.get(reverse("software"))["Location"] == reverse("home")


def test_the_childs_pages_write_the_session_at_most_once_a_minute(parent, cast, time_machine):
    from django.contrib.sessions.models import Session

    time_machine.move_to("2026-03-02 10:00 +01:00", tick=False)
    tap_pin(parent, cast.emma, "2468")
    parent.get(reverse("software"))
    stored = Session.objects.get().session_data
    time_machine.shift(30)
    parent.get(reverse("software"))
    assert Session.objects.get().session_data == stored  # nothing written
    time_machine.shift(31)
    parent.get(reverse("software"))
    assert Session.objects.get().session_data != stored  # the idle clock moved on
