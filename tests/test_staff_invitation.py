"""A new staff member entered by a school's manager gets a link to choose a password."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from post_office.models import Email

from accounts.models import User
from schools.models import StaffRole

pytestmark = pytest.mark.django_db

MEMBERSHIP_ADD = reverse("admin:schools_staffmembership_add")


def add_member(client, school, email, role=StaffRole.TEACHER):
    return client.post(MEMBERSHIP_ADD, {"email": email, "school": school.pk, "role": role})


def test_it_invites_a_new_teacher_to_choose_a_password(client, cast, settings):
    settings.SITE_URL = "https://thuis.example.nl"
    client.force_login(cast.ict_x)
    response = add_member(client, cast.school_x, " Meester.Bas@Regenboog.nl ")
    assert response.status_code == 302
    user = User.objects.get(email="meester.bas@regenboog.nl")
    assert not user.has_usable_password()
    message = Email.objects.get(to=["meester.bas@regenboog.nl"])
    assert "De Regenboog" in message.subject
    assert "leerkracht van De Regenboog" in message.message
    link = re.search(r"https://thuis\.example\.nl/wachtwoord/[^/\s]+/", message.message).group(0)
    assert client.get(link).status_code == 200
    assert "https://thuis.example.nl/beheer/" in message.message


def test_it_does_not_invite_someone_who_already_has_a_password(client, cast):
    client.force_login(cast.ict_x)
    response = add_member(client, cast.school_x, cast.parent_a.email)
    assert response.status_code == 302
    assert cast.parent_a.memberships.get().school == cast.school_x
    assert not Email.objects.filter(to=[cast.parent_a.email]).exists()
