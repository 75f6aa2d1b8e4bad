"""The outbox and its worker: nothing is lost while the mail server is down.

accounts/outbox.py: a failed message is tried again after 1 minute, then after 2, 4, …
minutes, never waiting more than an hour between tries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail import EmailMessage, mailers
from django.test import Client
from django.urls import reverse
from post_office.models import STATUS

from basispoort.lib.mail import DevelopmentEmailBackend
from tests.helpers import (
    LOCMEM_MAILERS,
    change_url,
    fresh,
    html,
    link_in,
    link_works,
    only_message_to,
    parent_status,
    post_change,
    run_mail_worker,
    saved,
    sent_to,
)

pytestmark = pytest.mark.django_db

NEW = "nieuw@example.com"
START = datetime(2025, 3, 10, 19, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


def invite(teacher, pupil, address: str = NEW):
    # Invitations go out only while home login is on (Daan's is off in the cast).
    changes = {"parent_email_2": address, "home_login_enabled": "on"}
    assert saved(post_change(teacher, pupil, **changes))
    return only_message_to(address)


def teachers_view(teacher, pupil, address: str = NEW) -> str:
    return parent_status(html(teacher.get(change_url(pupil))), address)[0]


# --- the mail server is down ---------------------------------------------------------------


def test_it_keeps_the_invitation_while_the_server_is_down_and_sends_it_later(
    teacher, cast, settings, mail_server_down, frozen
):
    message = invite(teacher, cast.emma)

    run_mail_worker()
    message = fresh(message)
    assert message.status == STATUS.requeued
    assert message.number_of_retries == 1
    assert message.scheduled_time == START + timedelta(minutes=1)
    assert teachers_view(teacher, cast.emma).startswith("nog niet verstuurd")

    frozen.shift(timedelta(seconds=30))  # not due yet: not tried
    run_mail_worker()
    assert fresh(message).number_of_retries == 1

    frozen.move_to(START + timedelta(minutes=1), tick=False)
    run_mail_worker()
    message = fresh(message)
    assert message.number_of_retries == 2
    assert message.scheduled_time == START + timedelta(minutes=1 + 2)

    frozen.move_to(START + timedelta(minutes=3), tick=False)
    run_mail_worker()
    message = fresh(message)
    assert message.status == STATUS.requeued
    assert message.number_of_retries == 3
    assert message.scheduled_time == START + timedelta(minutes=3 + 4)
    assert mail.outbox == []

    # The server answers again; the message goes out once its pause is over.
    settings.MAILERS = LOCMEM_MAILERS
    frozen.move_to(START + timedelta(minutes=5), tick=False)
    run_mail_worker()
    assert mail.outbox == []
    frozen.move_to(START + timedelta(minutes=7), tick=False)
    run_mail_worker()

    assert fresh(message).status == STATUS.sent
    (sent,) = sent_to(NEW)
    assert sent.subject == message.subject
    assert link_works(link_in(sent.body))
    assert teachers_view(teacher, cast.emma) == "verstuurd op 10-03-2025 19:07"


def test_it_waits_at_most_an_hour_between_tries(teacher, cast, settings, mail_server_down, frozen):
    message = invite(teacher, cast.emma)
    now = START
    for tries, pause in enumerate([1, 2, 4, 8, 16, 32, 60, 60], start=1):
        run_mail_worker()
        message = fresh(message)
        assert message.number_of_retries == tries
        assert message.scheduled_time == now + timedelta(minutes=pause)
        now += timedelta(minutes=pause)
        frozen.move_to(now, tick=False)
    assert message.status == STATUS.requeued
    assert mail.outbox == []


def test_it_does_not_postpone_a_waiting_message_when_another_one_fails(
    teacher, cast, settings, mail_server_down, frozen
):
    # A message waiting for its retry keeps its turn when another message fails meanwhile.
    first = invite(teacher, cast.emma)
    run_mail_worker()
    assert fresh(first).scheduled_time == START + timedelta(minutes=1)

    frozen.shift(timedelta(seconds=30))
    invite(teacher, cast.daan, "tweede@example.com")
    run_mail_worker()
    assert fresh(first).number_of_retries == 1
    assert fresh(first).scheduled_time == START + timedelta(minutes=1)


def test_it_keeps_a_forgotten_password_link_while_the_server_is_down(
    client, cast, settings, mail_server_down, frozen
):
    client.post("/wachtwoord-vergeten/", {"email": cast.parent_a.email})
    run_mail_worker()
    message = only_message_to(cast.parent_a.email)
    assert fresh(message).status == STATUS.requeued

    settings.MAILERS = LOCMEM_MAILERS
    frozen.shift(timedelta(minutes=1))
    run_mail_worker()
    (sent,) = sent_to(cast.parent_a.email)
    assert link_works(link_in(sent.body))


# --- the worker command --------------------------------------------------------------------


def test_it_runs_one_round_and_prints_a_summary(teacher, cast):
    invite(teacher, cast.emma)
    Client().post("/wachtwoord-vergeten/", {"email": cast.parent_b.email})

    output = run_mail_worker()
    assert output.strip() == "nieuwe links: 1, verstuurd: 2, mislukt: 0, later opnieuw: 0"
    assert {tuple(message.to) for message in mail.outbox} == {(NEW,), (cast.parent_b.email,)}
    # Nothing left to do: nothing to say.
    assert run_mail_worker() == ""


def test_it_counts_messages_to_try_again_in_the_summary(teacher, cast, mail_server_down):
    invite(teacher, cast.emma)
    output = run_mail_worker()
    assert output.strip() == "nieuwe links: 0, verstuurd: 0, mislukt: 0, later opnieuw: 1"


# --- development -----------------------------------------------------------------------------


def development_mailer(settings, folder) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "basispoort.lib.mail.DevelopmentEmailBackend",
            "OPTIONS": {"file_path": str(folder)},
        }
    }


def test_it_prints_and_keeps_each_message_in_development(settings, tmp_path, capsys):
    development_mailer(settings, tmp_path)
    backend = mailers["default"]
    assert isinstance(backend, DevelopmentEmailBackend)

    message = EmailMessage("Onderwerp", "Klik hier: https://thuis.example.nl/x/", to=[NEW])
    assert backend.send_messages([message]) == 1

    files = list(tmp_path.iterdir())
    assert len(files) == 1
    kept = files[0].read_text()
    assert "Subject: Onderwerp" in kept
    assert "https://thuis.example.nl/x/" in kept
    printed = capsys.readouterr().out
    assert f"--- e-mail aan {NEW}: Onderwerp" in printed
    assert "Klik hier: https://thuis.example.nl/x/" in printed
    assert str(tmp_path) in printed


def test_it_shows_the_invitation_link_on_the_console_in_development(
    teacher, cast, settings, tmp_path, capsys
):
    invite(teacher, cast.emma)
    development_mailer(settings, tmp_path)
    run_mail_worker()

    link = link_in(capsys.readouterr().out)
    assert any(link in path.read_text() for path in tmp_path.iterdir())
    assert link_works(link)


# --- the operator's view -------------------------------------------------------------------


def test_it_shows_the_outbox_to_the_operator_only(client, teacher, cast):
    invite(teacher, cast.emma)
    url = reverse("admin:post_office_email_changelist")
    assert teacher.get(url).status_code == 403

    client.force_login(cast.superuser)
    page = client.get(url)
    assert page.status_code == 200
    assert NEW in html(page)
