"""Emma's way from her picture to her software, as a parent and a child would click it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from launcher.models import LaunchEvent, Product
from tests.browser.accessibility import low_contrast, small_targets

pytestmark = pytest.mark.django_db(transaction=True)

#: Emma's product (group 5) without single sign-on: opening it goes straight to its URL.
DIRECT = "Tafelturbo"
SIZES = {"phone": (390, 844), "tablet": (820, 1180), "laptop": (1366, 768)}


@pytest.fixture
def demo(transactional_db, live_server):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # A "product" on the test server itself, so the browser can really arrive there. Not
    # Rekenrups: that one signs in through the demo publisher (see test_sso_flow.py).
    Product.objects.filter(name=DIRECT).update(launch_url=f"{live_server.url}/healthz")


@pytest.fixture
def page_without_script(browser):
    context = browser.new_context(java_script_enabled=False, locale="nl-NL")
    yield context.new_page()
    context.close()


def tap(page, name):
    page.get_by_role("button", name=name, exact=True).click()


def open_tile(page, name):
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    page.wait_for_load_state("load")  # the pad's script is in


def log_in_as_parent(page, url):
    page.goto(url)
    page.get_by_label("E-mailadres", exact=True).fill("ouder@example.com")
    page.get_by_label("Wachtwoord").fill("thuisportaal-demo")
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Wie gaat er werken?")).to_be_visible()


def test_it_takes_emma_from_her_tile_to_her_software(live_server, page, shoot, demo):
    log_in_as_parent(page, live_server.url)
    shoot("1-tiles")
    open_tile(page, "Emma")
    expect(page.get_by_role("status")).to_have_text("0 van de 4 cijfers")
    for digit in "246":
        tap(page, digit)
    expect(page.get_by_role("status")).to_have_text("3 van de 4 cijfers")
    shoot("2-pad-three-digits")
    tap(page, "8")
    expect(page.get_by_role("heading", name="Hoi Emma!")).to_be_visible()
    shoot("3-software")
    expect(page.get_by_role("button", name="Rekenrups")).to_be_visible()
    expect(page.get_by_role("button", name=DIRECT)).to_be_visible()
    expect(page.get_by_role("button", name="Spellingspoor")).to_have_count(0)  # not for home

    page.get_by_role("button", name=DIRECT).click()
    page.wait_for_url(f"{live_server.url}/healthz")
    assert '"status": "ok"' in page.content()
    # Back to the portal: the session ended with the launch.
    page.goto(live_server.url)
    shoot("4-after-launch")
    expect(page.get_by_role("heading", name="Thuis inloggen")).to_be_visible()
    assert page.problems == []


def test_emma_can_type_her_pin_on_the_keyboard(live_server, page, demo):
    log_in_as_parent(page, live_server.url)
    open_tile(page, "Emma")
    page.keyboard.down("1")  # held down: one digit, however long
    page.keyboard.down("1")
    page.keyboard.up("1")
    expect(page.get_by_role("status")).to_have_text("1 van de 4 cijfers")
    page.keyboard.press("Backspace")
    page.keyboard.type("2461")
    expect(page.get_by_role("alert")).to_have_text("Dat was niet goed. Probeer het nog eens!")
    expect(page.get_by_role("status")).to_have_text("0 van de 4 cijfers")
    page.wait_for_load_state("load")
    page.keyboard.type("247")
    page.keyboard.press("Backspace")
    page.keyboard.type("68")
    expect(page.get_by_role("heading", name="Hoi Emma!")).to_be_visible()
    assert page.problems == []


def test_it_lets_daan_in_with_the_cat_and_the_sun(live_server, page, shoot, demo):
    log_in_as_parent(page, live_server.url)
    open_tile(page, "Daan")
    shoot("1-pictures")
    tap(page, "kat")
    expect(page.locator(".slot.filled")).to_have_count(1)  # the first box fills
    expect(page.get_by_role("status")).to_have_text("1 van de 2 plaatjes")
    shoot("2-cat-chosen")
    tap(page, "zon")
    expect(page.get_by_role("heading", name="Hoi Daan!")).to_be_visible()
    shoot("3-software")
    assert page.problems == []


def test_the_pad_and_the_pictures_work_without_script(live_server, page_without_script, demo):
    page = page_without_script
    log_in_as_parent(page, live_server.url)
    open_tile(page, "Emma")
    for digit in "2468":
        tap(page, digit)
    expect(page.get_by_role("heading", name="Hoi Emma!")).to_be_visible()
    page.get_by_role("button", name="Klaar / uitloggen").click()
    log_in_as_parent(page, live_server.url)
    open_tile(page, "Daan")
    tap(page, "kat")
    tap(page, "Wissen")
    tap(page, "kat")
    tap(page, "zon")
    expect(page.get_by_role("heading", name="Hoi Daan!")).to_be_visible()


def test_it_makes_emma_wait_after_five_wrong_pins(live_server, page, shoot, demo):
    log_in_as_parent(page, live_server.url)
    open_tile(page, "Emma")
    for _ in range(5):
        page.keyboard.type("1111")
        expect(page.get_by_role("alert")).to_be_visible()
        page.wait_for_load_state("load")
    shoot("1-wait")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Even wachten")
    expect(alert).to_contain_text("Probeer het nog eens over 10 seconden.")  # for screen readers
    expect(page.get_by_role("button", name="5")).to_have_count(0)  # no pad while waiting
    # The count goes down by itself, and the pad comes back when it reaches zero.
    expect(page.locator("[data-countdown]")).to_have_text("8", timeout=4000)
    expect(page.get_by_role("button", name="5")).to_be_visible(timeout=12000)
    assert page.problems == []


def test_a_double_click_opens_the_software_once(live_server, page, demo):
    log_in_as_parent(page, live_server.url)
    open_tile(page, "Emma")
    page.keyboard.type("2468")
    expect(page.get_by_role("heading", name="Hoi Emma!")).to_be_visible()
    page.get_by_role("button", name=DIRECT).dblclick()
    page.wait_for_url(f"{live_server.url}/healthz")
    assert LaunchEvent.objects.get().product.name == DIRECT


@pytest.mark.parametrize("size", SIZES)
def test_the_childrens_pages_fit_small_fingers_and_read_clearly(
    live_server, page, shoot, demo, size
):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    log_in_as_parent(page, live_server.url)
    checked = {}
    checked["tiles"] = (small_targets(page), low_contrast(page))
    shoot(f"{size}-1-tiles")
    open_tile(page, "Daan")
    expect(page.get_by_role("button", name="kat")).to_be_visible()
    checked["pictures"] = (small_targets(page), low_contrast(page))
    shoot(f"{size}-2-pictures")
    page.go_back()
    open_tile(page, "Emma")
    expect(page.get_by_role("button", name="5")).to_be_visible()
    checked["pad"] = (small_targets(page), low_contrast(page))
    shoot(f"{size}-3-pad")
    page.keyboard.type("2468")
    expect(page.get_by_role("heading", name="Hoi Emma!")).to_be_visible()
    checked["software"] = (small_targets(page), low_contrast(page))
    shoot(f"{size}-4-software")
    assert checked == {name: ([], []) for name in checked}
    # Nothing sticks out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0]
