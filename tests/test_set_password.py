"""Choosing a password through an e-mailed link: invitation or forgotten password.

Every link is taken from the outbox, the way a parent finds it in their mailbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import User
from tests.conftest import PASSWORD
from tests.helpers import (
    choose_password,
    form_errors,
    html,
    link_in,
    link_works,
    log_in,
    only_message_to,
    open_link,
    path_of,
    post_change,
    queued_to,
    run_mail_worker,
    saved,
    says_link_is_dead,
    sent_to,
)

pytestmark = pytest.mark.django_db

NEW = "nieuw@example.com"
GOOD_PASSWORD = "zonnebloem-fiets-42"
START = datetime(2025, 3, 10, 19, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


@pytest.fixture
def invitation(cast) -> str:
    """The link in the invitation teacher X's save sends to a new parent of Emma."""
    teacher = Client()
    teacher.force_login(cast.teacher_x)
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    return link_in(only_message_to(NEW).message)


def reset_link(client, address: str) -> str:
    """Ask for a new password at the login page and take the link from the delivered mail.

    (Once delivered, the outbox row no longer holds a usable link: see test_security_fixes.)
    """
    before = len(sent_to(address))
    assert client.post("/wachtwoord-vergeten/", {"email": address}).status_code == 200
    run_mail_worker()  # also delivers what was still queued, such as the invitation
    (reset,) = [
        message
        for message in sent_to(address)[before:]
        if message.subject == "Uw link om een nieuw wachtwoord te kiezen"
    ]
    return link_in(reset.body)


def is_usable(link: str) -> bool:
    """The link still opens the password form (a dead link answers 200 too, another page)."""
    return link_works(link)


def is_dead(link: str) -> bool:
    return says_link_is_dead(open_link(link))


# --- the whole flow --------------------------------------------------------------------------


def test_it_sets_a_password_through_the_invitation_and_logs_in(client, cast, invitation):
    # Opening the link (a person, or a mail scanner) shows a button and spends nothing.
    for _ in range(2):
        page = client.get(path_of(invitation))
        assert page.status_code == 200
        assert "accounts/set_password.html" in [t.name for t in page.templates]
        assert '<button type="submit"' in html(page)
        assert "Wachtwoord opslaan" in html(page)
        assert NEW in html(page)

    refused = choose_password(client, invitation, "12345678")
    assert refused.status_code == 200
    assert "Dit wachtwoord is te algemeen." in form_errors(refused)
    assert "Dit wachtwoord bevat alleen cijfers." in form_errors(refused)
    assert "Dit wachtwoord is te algemeen." in html(refused)
    assert not User.objects.get(email=NEW).has_usable_password()
    assert is_usable(invitation)

    response = choose_password(client, invitation, GOOD_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/kinderen/"
    children = client.get("/kinderen/")
    assert children.status_code == 200
    assert "Emma" in html(children)

    confirmation = queued_to(NEW)[-1]
    assert confirmation.subject == "Uw wachtwoord voor Thuisportaal is ingesteld"
    assert "/wachtwoord/" not in confirmation.message

    assert client.post("/uitloggen/").status_code == 302
    assert client.get("/kinderen/").status_code == 302
    response = log_in(client, "  Nieuw@EXAMPLE.com ", GOOD_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/kinderen/"

    # The link has done its work.
    reused = Client().get(path_of(invitation))
    assert says_link_is_dead(reused)
    assert "werkt niet meer" in html(reused)
    assert says_link_is_dead(choose_password(Client(), invitation, "nog-een-ander-wachtwoord"))
    assert User.objects.get(email=NEW).check_password(GOOD_PASSWORD)


def test_it_refuses_a_password_like_the_address_and_keeps_the_link(client, invitation):
    refused = choose_password(client, invitation, "nieuw@example.com")
    assert refused.status_code == 200
    assert "Het wachtwoord lijkt te veel op uw e-mailadres of naam." in form_errors(refused)
    assert "Het wachtwoord lijkt te veel op uw e-mailadres of naam." in html(refused)
    assert is_usable(invitation)


def test_it_refuses_two_different_passwords(client, invitation):
    refused = choose_password(client, invitation, GOOD_PASSWORD, again="zonnebloem-fiets-43")
    assert refused.status_code == 200
    assert form_errors(refused)
    assert is_usable(invitation)
    assert not User.objects.get(email=NEW).has_usable_password()


def test_it_refuses_a_link_with_an_unknown_token(client, db):
    response = client.get("/wachtwoord/dit-is-geen-echte-link/")
    # 200, not 410: no 4xx line in a log carries a token.
    assert response.status_code == 200
    assert says_link_is_dead(response)
    assert "Vraag een nieuwe link aan" in html(response)
    posted = client.post(
        "/wachtwoord/dit-is-geen-echte-link/",
        {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD},
    )
    assert says_link_is_dead(posted)


# --- one password ends every link ----------------------------------------------------------


def test_it_stops_an_earlier_link_once_a_password_is_set_through_another(client, invitation):
    # The parent asked for a new password too: either link may be the one they use.
    reset = reset_link(client, NEW)
    assert is_usable(invitation)
    assert is_usable(reset)

    assert choose_password(client, reset, GOOD_PASSWORD).status_code == 302
    assert is_dead(invitation)
    assert says_link_is_dead(choose_password(Client(), invitation, "iets-heel-anders-77"))
    assert User.objects.get(email=NEW).check_password(GOOD_PASSWORD)


def test_it_stops_a_later_link_once_a_password_is_set_through_an_earlier_one(client, invitation):
    reset = reset_link(client, NEW)
    assert choose_password(client, invitation, GOOD_PASSWORD).status_code == 302
    assert is_dead(reset)
    assert says_link_is_dead(choose_password(Client(), reset, "iets-heel-anders-77"))
    assert User.objects.get(email=NEW).check_password(GOOD_PASSWORD)


# --- expiry --------------------------------------------------------------------------------


def test_it_keeps_an_invitation_for_seven_days(cast, time_machine):
    time_machine.move_to(START, tick=False)
    teacher = Client()
    teacher.force_login(cast.teacher_x)
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    link = link_in(only_message_to(NEW).message)

    time_machine.move_to(START + timedelta(days=7, minutes=-1), tick=False)
    assert is_usable(link)
    time_machine.move_to(START + timedelta(days=7, minutes=1), tick=False)
    expired = Client().get(path_of(link))
    assert says_link_is_dead(expired)
    assert "werkt niet meer" in html(expired)
    assert says_link_is_dead(choose_password(Client(), link, GOOD_PASSWORD))
    assert not User.objects.get(email=NEW).has_usable_password()


def test_it_keeps_a_reset_link_for_an_hour(client, cast, time_machine):
    time_machine.move_to(START, tick=False)
    link = reset_link(client, cast.parent_a.email)

    time_machine.move_to(START + timedelta(minutes=59), tick=False)
    assert is_usable(link)
    time_machine.move_to(START + timedelta(minutes=61), tick=False)
    assert is_dead(link)
    assert says_link_is_dead(choose_password(Client(), link, GOOD_PASSWORD))
    assert User.objects.get(pk=cast.parent_a.pk).check_password(PASSWORD)


# --- other sessions ------------------------------------------------------------------------


def test_it_ends_the_other_sessions_of_the_account(client, cast):
    other_device = Client()
    assert log_in(other_device, cast.parent_a.email, PASSWORD).status_code == 302
    assert other_device.get("/kinderen/").status_code == 200
    other_session = other_device.session.session_key

    link = reset_link(client, cast.parent_a.email)
    assert choose_password(client, link, GOOD_PASSWORD).status_code == 302

    response = other_device.get("/kinderen/")
    assert response.status_code == 302
    assert response["Location"] == "/?next=/kinderen/"
    assert not Session.objects.filter(session_key=other_session).exists()
    # The device that chose the password stays logged in.
    assert client.get("/kinderen/").status_code == 200
