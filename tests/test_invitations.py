"""A teacher saves a parent's address: the invitation (or notice) waits in the outbox.

Teacher X saves addresses on Emma (school X, parent A already on slot 1) unless stated.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from post_office.models import STATUS, Email, Log

from accounts.models import ParentLink, PasswordLink, User
from schools.models import School
from tests.conftest import PASSWORD
from tests.helpers import (
    SET_PASSWORD_LINK,
    change_url,
    choose_password,
    form_data,
    html,
    link_in,
    link_works,
    log_in,
    only_message_to,
    open_link,
    parent_status,
    post_change,
    queued_to,
    run_action,
    run_mail_worker,
    saved,
    says_link_is_dead,
    sent_to,
)

pytestmark = pytest.mark.django_db

NEW = "nieuw@example.com"
GOOD_PASSWORD = "zonnebloem-fiets-42"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def status_on_page(client, pupil, address) -> tuple[str, str, str]:
    return parent_status(html(client.get(change_url(pupil))), address)


# --- what is queued ------------------------------------------------------------------------


def test_it_queues_an_invitation_when_a_new_address_is_saved(teacher, cast, site_url):
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))

    message = only_message_to(NEW)
    assert message.status == STATUS.queued
    assert mail.outbox == []  # nothing is sent inside the request
    assert message.subject == "Thuis inloggen voor Emma (De Regenboog): kies uw wachtwoord"
    # Plain text and HTML, both naming the school and the child, explaining the spam folder.
    for body in (message.message, message.html_message):
        assert "De Regenboog" in body
        assert "Emma" in body
        assert "Spam of Ongewenst" in body
    assert "<a href=" in message.html_message
    link = link_in_both_parts(message)
    assert link.startswith(f"{site_url}/wachtwoord/")

    parent = User.objects.get(email=NEW)
    assert not parent.has_usable_password()
    assert PasswordLink.objects.usable().filter(user=parent, purpose="invitation").count() == 1
    assert ParentLink.objects.get(pupil=cast.emma, user=parent).message == message


def link_in_both_parts(message: Email) -> str:
    text_links = set(SET_PASSWORD_LINK.findall(message.message))
    html_links = set(SET_PASSWORD_LINK.findall(message.html_message))
    assert len(text_links) == 1
    assert text_links == html_links
    return text_links.pop()


def test_it_keeps_no_address_when_the_invitation_cannot_be_queued(teacher, cast, monkeypatch):
    # Address and e-mail stand or fall together: they are written in one transaction.
    def outbox_broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("accounts.invitations.queue", outbox_broken)
    with pytest.raises(RuntimeError):
        post_change(teacher, cast.emma, parent_email_2=NEW)
    assert not User.objects.filter(email=NEW).exists()
    assert list(cast.emma.parent_links.values_list("user__email", flat=True)) == [
        cast.parent_a.email
    ]
    assert not Email.objects.exists()


def test_it_sends_only_a_short_notice_to_an_address_that_has_a_password(teacher, cast):
    assert saved(post_change(teacher, cast.emma, parent_email_2=cast.parent_b.email))

    message = only_message_to(cast.parent_b.email)
    assert message.subject == "Emma is toegevoegd aan uw Thuisportaal"
    for body in (message.message, message.html_message):
        assert "De Regenboog" in body
        assert "Emma" in body
        assert "/wachtwoord/" not in body
    assert not PasswordLink.objects.filter(user=cast.parent_b).exists()
    parent_b = User.objects.get(pk=cast.parent_b.pk)
    assert parent_b.check_password(PASSWORD)


def test_it_uses_one_account_for_a_parent_at_two_schools(client, cast):
    client.force_login(cast.teacher_x)
    assert saved(post_change(client, cast.emma, parent_email_2="gezin@example.com"))
    client.force_login(cast.teacher_y)
    assert saved(
        post_change(
            client,
            cast.yara,
            parent_email_2=" Gezin@Example.com",
            home_login_enabled="on",
            new_pin="1357",
        )
    )

    parent = User.objects.get(email="gezin@example.com")
    assert User.objects.filter(email__iexact="gezin@example.com").count() == 1
    assert set(parent.parent_links.values_list("pupil__first_name", flat=True)) == {
        "Emma",
        "Yara",
    }
    to_emma, to_yara = queued_to("gezin@example.com")
    assert "Emma (De Regenboog)" in to_emma.subject
    assert "Yara (De Zonnewijzer)" in to_yara.subject

    # One password, chosen through either invitation, opens both children.
    client.logout()
    response = choose_password(client, SET_PASSWORD_LINK.search(to_yara.message)[0], GOOD_PASSWORD)
    assert response.status_code == 302
    page = html(client.get("/kinderen/"))
    assert "Emma" in page
    assert "Yara" in page


def test_it_links_an_address_with_spaces_and_capitals_to_the_normalised_account(teacher, cast):
    users_before = User.objects.count()
    assert saved(post_change(teacher, cast.emma, parent_email_2="  Ouder.B@Example.COM "))
    assert User.objects.count() == users_before
    assert ParentLink.objects.get(pupil=cast.emma, slot=2).user == cast.parent_b
    assert only_message_to("ouder.b@example.com").to == ["ouder.b@example.com"]


def test_it_creates_a_new_account_under_the_normalised_address(teacher, cast):
    assert saved(post_change(teacher, cast.emma, parent_email_2=" Nieuw@Example.NL "))
    assert saved(
        post_change(teacher, cast.daan, parent_email_2="NIEUW@example.nl", home_login_enabled="on")
    )
    parent = User.objects.get(email="nieuw@example.nl")
    assert set(parent.parent_links.values_list("pupil", flat=True)) == {cast.emma.pk, cast.daan.pk}
    assert len(queued_to("nieuw@example.nl")) == 2


def test_it_builds_links_from_site_url_not_from_the_host_header(teacher, cast, site_url, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example.com"]
    url = change_url(cast.emma)
    page = teacher.get(url, HTTP_HOST="evil.example.com")
    assert page.status_code == 200
    data = form_data(page) | {"parent_email_2": NEW}
    assert saved(teacher.post(url, data, HTTP_HOST="evil.example.com"))

    message = only_message_to(NEW)
    for body in (message.message, message.html_message):
        assert "evil.example.com" not in body
        assert f"{site_url}/" in body  # the home page link
    assert link_in_both_parts(message).startswith(f"{site_url}/wachtwoord/")


def test_it_queues_nothing_and_creates_no_account_when_the_save_fails(teacher, cast):
    response = post_change(
        teacher, cast.emma, parent_email_1=NEW, parent_email_2="ouder op example.com"
    )
    assert not saved(response)
    assert not User.objects.filter(email=NEW).exists()
    assert not Email.objects.exists()
    assert not PasswordLink.objects.exists()
    assert list(cast.emma.parent_links.values_list("user__email", flat=True)) == [
        cast.parent_a.email
    ]


def test_it_writes_a_school_name_with_an_apostrophe_plainly_in_the_subject(teacher, cast):
    # Subjects and plain-text bodies are not HTML: Dutch school names such as "'t Kompas"
    # must not reach the parent as "&#x27;t Kompas" (the subject templates once escaped them).
    School.objects.filter(pk=cast.school_x.pk).update(name="Basisschool 't Kompas & Co")
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    assert saved(
        post_change(teacher, cast.daan, parent_email_2=cast.parent_b.email, home_login_enabled="on")
    )

    invitation = only_message_to(NEW)
    assert invitation.subject == (
        "Thuis inloggen voor Emma (Basisschool 't Kompas & Co): kies uw wachtwoord"
    )
    assert "Basisschool 't Kompas & Co" in invitation.message
    assert "Basisschool &#x27;t Kompas &amp; Co" in invitation.html_message
    notice = only_message_to(cast.parent_b.email)
    assert "Basisschool 't Kompas & Co" in notice.message


# --- sending the invitation again ----------------------------------------------------------


def test_it_resends_invitations_only_to_addresses_without_a_password(teacher, cast):
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    first = only_message_to(NEW)
    # The first one went out (one still in the outbox is not sent twice: test_security_fixes).
    run_mail_worker()
    (delivered,) = sent_to(NEW)

    response = run_action(teacher, "resend_invitations", [cast.emma, cast.daan])
    assert response.status_code == 302
    assert "Er staat 1 nieuwe uitnodiging klaar." in html(teacher.get(response["Location"]))
    # Parent A (Emma and Daan) has a password: no invitation, no notice.
    assert queued_to(cast.parent_a.email) == []
    old, new = queued_to(NEW)
    assert old == first
    assert new.status == STATUS.queued
    assert new.subject == first.subject
    assert ParentLink.objects.get(pupil=cast.emma, slot=2).message == new

    # The delivered first mail has the old link; the outbox row of the new one the new link.
    old_link, new_link = link_in(delivered.body), SET_PASSWORD_LINK.search(new.message)[0]
    assert old_link != new_link
    # Both work until a password is set through either of them.
    assert link_works(old_link, teacher)
    assert link_works(new_link, teacher)
    teacher.logout()
    assert choose_password(teacher, new_link, GOOD_PASSWORD).status_code == 302
    assert says_link_is_dead(open_link(old_link, teacher))


def test_it_sends_no_invitation_again_once_the_parent_has_a_password(teacher, cast):
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    parent = User.objects.get(email=NEW)
    parent.set_password(GOOD_PASSWORD)
    parent.save()

    run_action(teacher, "resend_invitations", [cast.emma])
    assert len(queued_to(NEW)) == 1


# --- the state a teacher sees ----------------------------------------------------------------


def test_it_shows_an_invitation_as_queued_and_then_as_sent(teacher, cast, time_machine):
    time_machine.move_to(datetime(2025, 3, 10, 8, 15, tzinfo=AMSTERDAM), tick=False)
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    assert status_on_page(teacher, cast.emma, NEW) == (
        "nog niet verstuurd (in de wachtrij)",
        "nog niet gekozen",
        "nog nooit",
    )

    time_machine.move_to(datetime(2025, 3, 10, 8, 20, tzinfo=AMSTERDAM), tick=False)
    run_mail_worker()
    assert len(mail.outbox) == 1
    assert status_on_page(teacher, cast.emma, NEW)[0] == "verstuurd op 10-03-2025 08:20"
    # Parent A was linked before any e-mail existed.
    assert status_on_page(teacher, cast.emma, cast.parent_a.email) == (
        "geen",
        "gekozen",
        "nog nooit",
    )


def test_it_shows_the_error_and_a_retry_while_the_mail_server_is_down(
    teacher, cast, settings, mail_server_down
):
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    run_mail_worker()

    message = only_message_to(NEW)
    assert message.status == STATUS.requeued
    error = Log.objects.get(email=message).message
    assert error  # e.g. "[Errno 111] Connection refused"
    sent_status = status_on_page(teacher, cast.emma, NEW)[0]
    assert sent_status == f"nog niet verstuurd, wordt opnieuw geprobeerd ({error})"


def test_it_shows_a_failure_with_the_error_when_the_tries_run_out(
    teacher, cast, settings, mail_server_down
):
    settings.POST_OFFICE = {**settings.POST_OFFICE, "MAX_RETRIES": 0}
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    run_mail_worker()

    message = only_message_to(NEW)
    assert message.status == STATUS.failed
    error = Log.objects.get(email=message).message
    assert status_on_page(teacher, cast.emma, NEW)[0] == f"mislukt: {error}"


def test_it_shows_whether_a_password_was_chosen_and_the_last_login(teacher, cast, time_machine):
    time_machine.move_to(datetime(2025, 3, 10, 19, 5, tzinfo=AMSTERDAM), tick=False)
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    link = SET_PASSWORD_LINK.search(only_message_to(NEW).message)[0]
    assert status_on_page(teacher, cast.emma, NEW)[1:] == ("nog niet gekozen", "nog nooit")

    time_machine.move_to(datetime(2025, 3, 10, 20, 30, tzinfo=AMSTERDAM), tick=False)
    assert choose_password(Client(), link, GOOD_PASSWORD).status_code == 302
    time_machine.move_to(datetime(2025, 3, 11, 7, 45, tzinfo=AMSTERDAM), tick=False)
    assert log_in(Client(), cast.parent_a.email, PASSWORD).status_code == 302

    # Choosing the password logs the parent in, but not through the home login at "/".
    assert status_on_page(teacher, cast.emma, NEW)[1:] == ("gekozen", "nog nooit")
    assert status_on_page(teacher, cast.emma, cast.parent_a.email)[1:] == (
        "gekozen",
        "11-03-2025 07:45",
    )
    time_machine.move_to(datetime(2025, 3, 11, 21, 10, tzinfo=AMSTERDAM), tick=False)
    assert log_in(Client(), NEW, GOOD_PASSWORD).status_code == 302
    assert status_on_page(teacher, cast.emma, NEW)[1:] == ("gekozen", "11-03-2025 21:10")
    assert "laatst thuis ingelogd" in html(teacher.get(change_url(cast.emma)))
