"""A parent who forgot the password gets a link, chooses a new password and is logged in."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.invitations import handle_password_requests
from accounts.outbox import deliver

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "Zonnebloem-Regenboog-26"


@pytest.fixture
def demo(transactional_db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def log_in(page, url, password):
    page.goto(url)
    page.get_by_label("E-mailadres", exact=True).fill(" Ouder@Example.com ")
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()


def test_it_walks_from_a_forgotten_password_to_the_children(
    live_server, page, shoot, demo, settings
):
    settings.SITE_URL = live_server.url
    log_in(page, live_server.url, "verkeerd-wachtwoord")
    shoot("1-wrong-password")
    assert page.get_by_role("alert").inner_text().startswith("Dit e-mailadres en wachtwoord")

    page.get_by_role("link", name="Gebruikersnaam of wachtwoord vergeten").click()
    page.get_by_label("E-mailadres", exact=True).fill("ouder@example.com")
    page.get_by_role("button", name="Stuur mij een link").click()
    shoot("2-check-your-mail")
    assert page.get_by_role("heading", name="Kijk in uw e-mail").is_visible()

    handle_password_requests()
    deliver()
    link = re.search(r"http://\S+/wachtwoord/[^/\s]+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    shoot("3-choose-password")
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Herhaal het nieuwe wachtwoord").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    shoot("4-children")
    assert page.url == f"{live_server.url}/kinderen/"
    assert page.get_by_text("Emma").is_visible()
    assert page.get_by_text("Daan").is_visible()

    page.get_by_role("button", name="Uitloggen").click()
    page.goto(link)
    shoot("5-link-used")
    assert page.get_by_role("heading", name="Deze link werkt niet meer").is_visible()

    log_in(page, live_server.url, NEW_PASSWORD)
    assert page.url == f"{live_server.url}/kinderen/"
    # CSRF, CSP and missing files would all show up here.
    assert page.problems == []
