"""'Gebruikersnaam of wachtwoord vergeten': one answer for every address, links by mail."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from post_office.models import Email

from accounts.models import PasswordRequest, User
from tests.conftest import PASSWORD, make_user
from tests.helpers import html, link_in, link_works, log_in, run_mail_worker, sent_to

pytestmark = pytest.mark.django_db

URL = "/wachtwoord-vergeten/"
UNKNOWN = "onbekend@example.com"
START = datetime(2025, 3, 10, 19, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


def ask(client, address: str):
    return client.post(URL, {"email": address})


def without_csrf_token(response) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", response.content)


def requests_for(address: str) -> int:
    return PasswordRequest.objects.filter(email=address).count()


# --- the same answer for everyone ----------------------------------------------------------


def test_it_answers_a_known_and_an_unknown_address_identically(cast, time_machine):
    time_machine.move_to(START, tick=False)  # so that Expires and Date headers match too
    known, unknown = ask(Client(), cast.parent_a.email), ask(Client(), UNKNOWN)

    assert known.status_code == unknown.status_code == 200
    assert [t.name for t in known.templates] == [t.name for t in unknown.templates]
    assert "accounts/forgot_sent.html" in [t.name for t in known.templates]
    assert without_csrf_token(known) == without_csrf_token(unknown)
    assert "Kijk in uw e-mail" in html(known)
    assert set(known.cookies) == set(unknown.cookies)
    assert dict(known.headers) == dict(unknown.headers)
    # The same work: one row each, and no e-mail at all inside the request.
    assert requests_for(cast.parent_a.email) == 1
    assert requests_for(UNKNOWN) == 1
    assert not Email.objects.exists()


def test_it_answers_the_same_for_an_address_typed_with_capitals(cast):
    response = ask(Client(), "  Ouder.A@Example.COM ")
    assert response.status_code == 200
    assert requests_for("ouder.a@example.com") == 1


def test_it_shows_a_form_error_for_an_invalid_address(client, db):
    response = ask(client, "ouder op example.com")
    assert response.status_code == 200
    assert "accounts/forgot.html" in [t.name for t in response.templates]
    assert response.context["form"].errors["email"]
    assert not PasswordRequest.objects.exists()


# --- what the mail worker sends ------------------------------------------------------------


def test_it_sends_a_link_only_to_a_known_address_with_children(client, cast, site_url):
    lonely = make_user("los@example.com")  # an account, but no child and no school
    for address in (cast.parent_a.email, UNKNOWN, lonely.email):
        ask(client, address)
    assert mail.outbox == []

    output = run_mail_worker()
    assert "nieuwe links: 1" in output
    (message,) = sent_to(cast.parent_a.email)
    assert message.subject == "Uw link om een nieuw wachtwoord te kiezen"
    link = link_in(message.body)
    assert link.startswith(f"{site_url}/wachtwoord/")
    assert sent_to(UNKNOWN) == []
    assert sent_to(lonely.email) == []
    assert len(mail.outbox) == 1
    assert not PasswordRequest.objects.filter(handled_at__isnull=True).exists()

    # The link works: it leads to the set-password page.
    assert link_works(link)


def test_it_sends_a_link_to_school_staff(client, cast):
    ask(client, cast.teacher_x.email)
    ask(client, cast.superuser.email)
    run_mail_worker()
    assert len(sent_to(cast.teacher_x.email)) == 1
    assert len(sent_to(cast.superuser.email)) == 1


def test_it_sends_no_link_to_a_deactivated_account(client, cast):
    User.objects.filter(pk=cast.parent_a.pk).update(is_active=False)
    ask(client, cast.parent_a.email)
    run_mail_worker()
    assert sent_to(cast.parent_a.email) == []


# --- limits --------------------------------------------------------------------------------


def test_it_drops_the_sixth_request_in_an_hour_without_locking_the_account(cast, time_machine):
    time_machine.move_to(START, tick=False)
    address = cast.parent_a.email
    answers = [ask(Client(), address) for _ in range(6)]
    assert requests_for(address) == 5
    assert {answer.status_code for answer in answers} == {200}
    assert without_csrf_token(answers[5]) == without_csrf_token(answers[0])

    # Someone else's address is not affected.
    ask(Client(), cast.parent_b.email)
    assert requests_for(cast.parent_b.email) == 1

    # The parent can still log in meanwhile.
    assert log_in(Client(), address, PASSWORD).status_code == 302

    time_machine.move_to(START + timedelta(minutes=61), tick=False)
    ask(Client(), address)
    assert requests_for(address) == 6


def test_it_counts_requests_per_address_whatever_the_spelling(cast):
    for spelling in ("ouder.a@example.com", "OUDER.A@example.com", " Ouder.A@Example.com "):
        ask(Client(), spelling)
        ask(Client(), spelling)
    assert requests_for("ouder.a@example.com") == 5


# --- the teachers' door --------------------------------------------------------------------


def test_it_links_to_it_from_the_admin_login_page(client, db):
    page = client.get(reverse("admin:login"))
    assert page.status_code == 200
    url = reverse("admin_password_reset")
    assert f'href="{url}"' in html(page)
    form = client.get(url)
    assert form.status_code == 200
    assert "Gebruikersnaam of wachtwoord vergeten" in html(form)
