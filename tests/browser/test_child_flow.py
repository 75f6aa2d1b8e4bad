"""Emma's way from her picture to her software, as a parent and a child would click it."""

from __future__ import annotations

import pytest

from launcher.models import Product

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(transactional_db, live_server):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # A "product" on the test server itself, so the browser can really arrive there.
    Product.objects.filter(name="Rekenrups").update(launch_url=f"{live_server.url}/healthz")


def tap(page, name):
    """Tap a button and let the new page finish loading, pictures included, as a child would."""
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state("load")


def log_in_as_parent(page, url):
    page.goto(url)
    page.get_by_label("E-mailadres", exact=True).fill("ouder@example.com")
    page.get_by_label("Wachtwoord").fill("thuisportaal-demo")
    page.get_by_role("button", name="Inloggen").click()


def test_it_takes_emma_from_her_tile_to_her_software(live_server, page, shoot, demo):
    log_in_as_parent(page, live_server.url)
    shoot("1-tiles")
    page.get_by_role("link", name="Emma").click()
    for digit in "2468":
        tap(page, digit)
    shoot("2-software")
    assert page.get_by_role("heading", name="Hoi Emma!").is_visible()
    assert page.get_by_role("button", name="Rekenrups").is_visible()
    assert not page.get_by_role("button", name="Spellingspoor").is_visible()  # not for home

    page.get_by_role("button", name="Rekenrups").click()
    page.wait_for_url(f"{live_server.url}/healthz")
    assert '"status": "ok"' in page.content()
    # Back to the portal: the session ended with the launch.
    page.goto(live_server.url)
    shoot("3-after-launch")
    assert page.get_by_role("heading", name="Thuis inloggen").is_visible()
    assert page.problems == []


def test_it_lets_daan_in_with_the_cat_and_the_sun(live_server, page, shoot, demo):
    log_in_as_parent(page, live_server.url)
    page.get_by_role("link", name="Daan").click()
    shoot("1-pictures")
    tap(page, "kat")
    tap(page, "zon")
    shoot("2-software")
    assert page.get_by_role("heading", name="Hoi Daan!").is_visible()
    assert page.problems == []


def test_it_makes_emma_wait_after_five_wrong_pins(live_server, page, shoot, demo):
    log_in_as_parent(page, live_server.url)
    page.get_by_role("link", name="Emma").click()
    for _ in range(5):
        for digit in "1111":
            tap(page, digit)
    shoot("1-wait")
    assert "Probeer het nog eens over 10 seconden" in page.get_by_role("alert").inner_text()
