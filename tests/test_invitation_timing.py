"""An invitation goes out when home login is on for the child, not before, and only once."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts import throttle
from accounts.models import LoginThrottle, PasswordLink
from tests.helpers import post_change, queued_to, run_action, saved

pytestmark = pytest.mark.django_db

NEW = "nieuw@example.com"


def test_it_keeps_the_invitation_while_home_login_is_off(teacher, cast):
    response = post_change(teacher, cast.daan, parent_email_2=NEW)
    assert saved(response)
    assert queued_to(NEW) == []
    page = teacher.get(reverse("admin:schools_pupil_change", args=[cast.daan.pk]))
    assert "zodra thuis inloggen aan staat" in page.content.decode()


def test_it_sends_the_waiting_invitation_when_home_login_is_switched_on(teacher, cast):
    assert saved(post_change(teacher, cast.daan, parent_email_2=NEW))
    assert saved(post_change(teacher, cast.daan, home_login_enabled="on"))
    (invitation,) = queued_to(NEW)
    assert "Daan" in invitation.subject
    # The parent who already has a password hears about Daan too, once.
    assert len(queued_to(cast.parent_a.email)) == 1


def test_it_sends_waiting_invitations_from_the_bulk_action(teacher, cast):
    assert saved(post_change(teacher, cast.daan, parent_email_2=NEW))
    run_action(teacher, "enable_home_login", [cast.daan, cast.emma])
    assert len(queued_to(NEW)) == 1
    # Emma's home login was on already: her parent is not told again.
    assert all("Emma" not in message.subject for message in queued_to(cast.parent_a.email))


def test_it_does_not_tell_a_parent_again_when_the_pupil_is_saved_for_other_reasons(teacher, cast):
    assert saved(post_change(teacher, cast.emma, first_name="Emmy"))
    assert queued_to(cast.parent_a.email) == []


def test_it_takes_a_teacher_who_set_a_password_to_the_admin(cast):
    _link, token = PasswordLink.issue(cast.teacher_x, PasswordLink.Purpose.RESET)
    client = Client()
    response = client.post(
        reverse("set-password", args=[token]),
        {"new_password1": "Vlinder-Regenboog-7", "new_password2": "Vlinder-Regenboog-7"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_it_forgets_old_failed_logins(cast, time_machine):
    time_machine.move_to("2026-03-02 09:00 +01:00")
    throttle.record_failure("iemand@example.com")
    time_machine.move_to("2026-03-02 10:20 +01:00")
    throttle.record_failure("ander@example.com")
    assert throttle.forget_old() == 1
    assert list(LoginThrottle.objects.values_list("key", flat=True)) == ["ander@example.com"]
