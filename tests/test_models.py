"""Rules the database and the models enforce, whatever form or import writes the data."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.urls import reverse

from accounts.models import ParentLink, User
from accounts.parents import set_parent_emails
from schools import access
from schools.models import (
    Group,
    LoginMethod,
    Pupil,
    School,
    StaffMembership,
    StaffRole,
    random_pin,
)

pytestmark = pytest.mark.django_db


def integrity_error(callable_, *args, **kwargs):
    # PostgreSQL refuses an over-long value before any constraint is checked.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        callable_(*args, **kwargs)


# --- users ---------------------------------------------------------------------------------


def test_it_treats_email_case_and_spaces_as_the_same_person():
    user = User.objects.create_user("Ouder@Voorbeeld.NL ", "x")
    assert user.email == "ouder@voorbeeld.nl"
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("ouder@voorbeeld.nl", "x")
    assert User.objects.get_by_natural_key(" OUDER@voorbeeld.nl") == user


def test_it_enforces_case_insensitive_uniqueness_in_the_database():
    User.objects.create_user("ouder@voorbeeld.nl")
    # bulk_create skips save(), so only the database constraint stands in the way.
    integrity_error(User.objects.bulk_create, [User(email="OUDER@voorbeeld.nl")])


def test_it_creates_accounts_without_a_usable_password_for_new_addresses():
    user = User.objects.for_email(" Nieuw@Example.com")
    assert user.email == "nieuw@example.com"
    assert not user.has_usable_password()
    assert User.objects.for_email("nieuw@example.com") == user


def test_it_lets_only_superusers_and_staff_into_the_admin(cast):
    assert cast.superuser.is_staff
    assert User.objects.get(pk=cast.teacher_x.pk).is_staff
    assert not User.objects.get(pk=cast.parent_a.pk).is_staff


# --- schools --------------------------------------------------------------------------------


@pytest.mark.parametrize("brin", ["1234X", "AB12", "12A", "12-B"])
def test_it_refuses_malformed_brin_numbers(brin):
    school = School(name="Test", brin=brin, location_code="00")
    with pytest.raises(ValidationError) as error:
        school.full_clean()
    assert "brin" in error.value.message_dict
    integrity_error(School.objects.create, name="Test", brin=brin, location_code="00")


def test_it_refuses_a_lower_case_brin_in_the_database():
    integrity_error(School.objects.create, name="Test", brin="12ab", location_code="00")


def test_it_upper_cases_the_brin_number_on_clean():
    school = School(name="Test", brin=" 12ab ", location_code="00")
    school.full_clean()
    assert school.brin == "12AB"


def test_it_refuses_malformed_location_codes():
    integrity_error(School.objects.create, name="Test", brin="12AB", location_code="1")


def test_it_keeps_brin_and_location_unique():
    School.objects.create(name="A", brin="12AB", location_code="00")
    School.objects.create(name="B", brin="12AB", location_code="01")
    integrity_error(School.objects.create, name="C", brin="12AB", location_code="00")


@pytest.mark.parametrize("length", [0, 4])
def test_it_keeps_the_picture_password_length_between_one_and_three(length):
    integrity_error(School.objects.create, name="A", brin="12AB", picture_password_length=length)


def test_it_refuses_unknown_network_environments():
    integrity_error(School.objects.create, name="A", brin="12AB", network_environment="magister")


def test_it_offers_home_login_only_without_a_network_environment():
    school = School(name="A", brin="12AB", home_login_allowed=True)
    assert school.home_login_available
    school.network_environment = "moo"
    assert not school.home_login_available
    school.network_environment = ""
    school.home_login_allowed = False
    assert not school.home_login_available


def test_it_refuses_unknown_year_levels(cast):
    integrity_error(Group.objects.create, school=cast.school_x, name="Groep 9", year_level="9")


# --- pupils ---------------------------------------------------------------------------------


def test_it_takes_the_school_from_the_group(cast):
    pupil = Pupil.objects.create(group=cast.group_y5, first_name="Kim", last_name="Bos")
    assert pupil.school == cast.school_y
    pupil.group = cast.group_x5
    pupil.save()
    pupil.refresh_from_db()
    assert pupil.school == cast.school_x


def test_it_keeps_external_keys_unique_per_school(cast):
    Pupil.objects.create(group=cast.group_x5, first_name="A", last_name="A", external_key="1")
    Pupil.objects.create(group=cast.group_y5, first_name="B", last_name="B", external_key="1")
    Pupil.objects.create(group=cast.group_x5, first_name="C", last_name="C")  # blank is fine
    integrity_error(
        Pupil.objects.create, group=cast.group_x2, first_name="D", last_name="D", external_key="1"
    )


def test_it_keeps_only_hashes_of_the_pin(cast):
    cast.emma.set_pin("1357")
    assert "1357" not in cast.emma.pin_hash
    assert cast.emma.check_pin("1357")
    assert not cast.emma.check_pin("1358")
    assert not cast.emma.check_pin("")


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "", "\uff11\uff12\uff13\uff14", "12 4"])
def test_it_refuses_a_pin_that_is_not_four_digits(cast, pin):
    with pytest.raises(ValidationError) as error:
        cast.emma.set_pin(pin)
    assert error.value.code == "invalid_pin"


def test_it_never_hands_out_an_easy_pin():
    pins = {random_pin() for _ in range(500)}
    assert all(len(pin) == 4 and pin.isdigit() for pin in pins)
    assert not pins & {"0000", "1111", "1234", "4321", "9876", "2580"}


def test_it_generates_a_new_pin_and_keeps_only_its_hash(cast):
    pin = cast.lotte.generate_pin()
    assert cast.lotte.check_pin(pin)
    assert pin not in cast.lotte.pin_hash


def test_it_checks_the_picture_password_in_order(cast):
    assert cast.daan.check_picture_password(["kat", "zon"])
    assert not cast.daan.check_picture_password(["zon", "kat"])
    assert not cast.daan.check_picture_password(["kat"])


def test_it_refuses_picture_passwords_of_the_wrong_length_or_unknown_pictures(cast):
    with pytest.raises(ValidationError) as error:
        cast.daan.set_picture_password(["kat"])
    assert error.value.code == "wrong_length"
    with pytest.raises(ValidationError) as error:
        cast.daan.set_picture_password(["kat", "hond"])
    assert error.value.code == "unknown_picture"


def test_it_unlocks_a_locked_pupil(cast):
    Pupil.objects.filter(pk=cast.emma.pk).update(failed_attempts=10, locked_at="2026-01-01T10:00Z")
    cast.emma.refresh_from_db()
    assert cast.emma.is_locked
    cast.emma.unlock()
    cast.emma.refresh_from_db()
    assert not cast.emma.is_locked
    assert cast.emma.failed_attempts == 0


def test_it_refuses_a_lock_without_failures(cast):
    integrity_error(Pupil.objects.filter(pk=cast.emma.pk).update, locked_at="2026-01-01T10:00Z")


def test_it_switches_home_login_off_when_a_pupil_leaves(cast):
    cast.emma.mark_left()
    cast.emma.refresh_from_db()
    assert not cast.emma.is_active
    assert not cast.emma.home_login_enabled
    assert cast.emma not in Pupil.objects.active()


def test_it_refuses_unknown_login_methods(cast):
    integrity_error(Pupil.objects.filter(pk=cast.emma.pk).update, login_method="face")
    assert {choice for choice, _label in LoginMethod.choices} == {"pin", "pictures"}


# --- parents --------------------------------------------------------------------------------


def test_it_stores_at_most_two_parents_per_pupil_in_the_database(cast):
    other = User.objects.for_email("derde@example.com")
    ParentLink.objects.create(pupil=cast.emma, user=cast.parent_b, slot=2)
    integrity_error(ParentLink.objects.create, pupil=cast.emma, user=other, slot=3)
    integrity_error(ParentLink.objects.create, pupil=cast.emma, user=other, slot=1)


def test_it_links_a_parent_only_once_per_pupil(cast):
    integrity_error(ParentLink.objects.create, pupil=cast.emma, user=cast.parent_a, slot=2)


def test_it_refuses_more_than_two_addresses(cast):
    with pytest.raises(ValidationError) as error:
        set_parent_emails(cast.emma, ["a@example.com", "b@example.com", "c@example.com"])
    assert error.value.code == "too_many_parents"
    assert list(cast.emma.parent_links.values_list("user__email", flat=True)) == [
        "ouder.a@example.com"
    ]


def test_it_normalises_and_replaces_parent_addresses(cast):
    new = set_parent_emails(cast.emma, [" Tweede@Example.com ", "ouder.a@example.com"])
    # Parent A only moved from slot 1 to 2: not new, so not told about Emma again.
    assert [link.user.email for link in new] == ["tweede@example.com"]
    assert [link.slot for link in new] == [1]
    assert set(cast.emma.parent_links.values_list("slot", "user__email")) == {
        (1, "tweede@example.com"),
        (2, "ouder.a@example.com"),
    }
    assert set_parent_emails(cast.emma, ["tweede@example.com", "ouder.a@example.com"]) == []
    set_parent_emails(cast.emma, [])
    assert not cast.emma.parent_links.exists()


def test_it_shares_one_account_between_brothers_and_sisters_at_two_schools(cast):
    set_parent_emails(cast.yara, ["OUDER.A@example.com"])
    assert cast.yara.parent_links.get().user == cast.parent_a
    assert cast.parent_a.parent_links.count() == 3


def test_it_keeps_one_membership_per_user_and_school(cast):
    integrity_error(
        StaffMembership.objects.create,
        user=cast.teacher_x,
        school=cast.school_x,
        role=StaffRole.ICT_COORDINATOR,
    )
    StaffMembership.objects.create(
        user=cast.teacher_x, school=cast.school_y, role=StaffRole.TEACHER
    )


def test_it_links_a_teacher_only_to_groups_of_the_own_school(cast):
    membership = StaffMembership.objects.get(user=cast.teacher_x)
    with pytest.raises(ValidationError), transaction.atomic():
        membership.groups.add(cast.group_y5)
    # From the group's side too, and nothing of a mixed batch is linked.
    with pytest.raises(ValidationError), transaction.atomic():
        cast.group_y5.teachers.add(membership)
    with pytest.raises(ValidationError), transaction.atomic():
        membership.groups.add(cast.group_x7, cast.group_y5)
    assert set(membership.groups.all()) == {cast.group_x2, cast.group_x5}
    assert not cast.group_y5.teachers.filter(pk=membership.pk).exists()
    # A group of the own school is fine, from either side.
    cast.group_x7.teachers.add(membership)
    assert set(membership.groups.all()) == {cast.group_x2, cast.group_x5, cast.group_x7}


def test_it_ignores_a_link_to_a_group_of_another_school_written_past_the_guard(cast, client):
    membership = StaffMembership.objects.get(user=cast.teacher_x)
    # A raw insert into the link table sends no m2m_changed signal.
    StaffMembership.groups.through.objects.create(staffmembership=membership, group=cast.group_y5)
    assert cast.group_y5 in membership.groups.all()
    assert set(access.pupils_for(cast.teacher_x)) == {cast.emma, cast.daan}
    assert set(access.groups_for(cast.teacher_x)) == {cast.group_x2, cast.group_x5}
    client.force_login(cast.teacher_x)
    response = client.get(reverse("admin:schools_pupil_change", args=[cast.yara.pk]))
    assert response.status_code == 404
    assert "Yara" not in response.content.decode()


def test_it_never_has_home_login_on_for_a_pupil_who_left(cast):
    integrity_error(
        Pupil.objects.filter(pk=cast.emma.pk).update, left_on="2026-01-01", home_login_enabled=True
    )


def test_it_removes_a_replaced_or_deleted_photo_from_disk(cast, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile

    storage = cast.emma.avatar.storage
    with django_capture_on_commit_callbacks(execute=True):
        cast.emma.avatar.save("eerste.jpg", ContentFile(b"1"))
    first = cast.emma.avatar.name
    emma = Pupil.objects.get(pk=cast.emma.pk)
    with django_capture_on_commit_callbacks(execute=True):
        emma.avatar.save("tweede.jpg", ContentFile(b"2"))
    second = emma.avatar.name
    assert not storage.exists(first)
    assert storage.exists(second)
    with django_capture_on_commit_callbacks(execute=True):
        Pupil.objects.filter(pk=emma.pk).delete()
    assert not storage.exists(second)
