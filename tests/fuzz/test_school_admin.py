"""The school, group and staff forms in admin, as a school's ICT coordinator uses them."""

from __future__ import annotations

import uuid

from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from accounts.models import User, normalize_email
from schools.models import Group, NetworkEnvironment, School, StaffMembership, StaffRole, YearLevel
from tests.fuzz import strategies as fuzzed
from tests.fuzz.support import (
    changed_counts,
    logged_in,
    no_server_error,
    row,
    row_counts,
    with_fixtures,
)
from tests.helpers import change_url, saved

REMOVE = None


def apply(data: dict, changed: dict) -> dict:
    data = dict(data)
    for name, value in changed.items():
        if value is REMOVE:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def a_few(fields: dict):
    return st.lists(st.sampled_from(sorted(fields)), max_size=4, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({name: fields[name] for name in chosen})
    )


def refused(fuzz, response, before: dict, *rows) -> None:
    fuzz.note("refused")
    assert response.context["adminform"].form.errors
    assert changed_counts(before) == {}
    for obj, was in rows:
        assert row(obj) == was


SCHOOL_FIELDS = {
    "name": fuzzed.names(),
    "brin": fuzzed.text(6),
    "location_code": fuzzed.text(3),
    "home_login_allowed": st.sampled_from([REMOVE, "on", "false", "\x00"]),
    "network_environment": st.one_of(
        st.sampled_from(["", *NetworkEnvironment.values, "MOO", "moo\x00"]), fuzzed.text(10)
    ),
    "picture_password_length": st.one_of(
        st.sampled_from(["1", "2", "3", "0", "4", "-1", "2.0", "٣", "99999999999999999999", ""]),
        fuzzed.text(4),
    ),
}


@with_fixtures
@example(changed={"name": "  Het Kompas  ", "picture_password_length": "3"})
@example(changed={"picture_password_length": "٣"})
@given(changed=a_few(SCHOOL_FIELDS))
def test_coordinator_changes_the_school(cast, fuzz, changed):
    school = cast.school_x
    posted = apply(
        {
            "name": school.name,
            "home_login_allowed": "on",
            "network_environment": "",
            "picture_password_length": "2",
        },
        changed,
    )
    with fuzz.example():
        client = logged_in(cast.ict_x)
        before, was, daan = row_counts(), row(school), row(cast.daan)
        response = client.post(change_url(school), posted)
        no_server_error(response)
        if not saved(response):
            refused(fuzz, response, before, (school, was), (cast.daan, daan))
            return
        fuzz.note("accepted")
        after = row(school)
        assert after["name"] == posted["name"].strip()
        # BRIN and location code are read-only for the school's own staff.
        assert (after["brin"], after["location_code"]) == (was["brin"], was["location_code"])
        assert changed_counts(before) == {"admin.LogEntry": 1}
        length_changed = after["picture_password_length"] != was["picture_password_length"]
        assert (row(cast.daan)["picture_password_hash"] == "") == length_changed


GROUP_FIELDS = {
    "name": st.one_of(
        st.sampled_from(["Groep 2", "Groep 7", "groep 2", "Groep 2 "]), fuzzed.names()
    ),
    "year_level": st.one_of(
        st.sampled_from([*YearLevel.values, "9", "0", "s", ""]), fuzzed.text(3)
    ),
    "external_key": st.one_of(st.just("G2"), fuzzed.text()),
    "school": st.sampled_from(["school_y", str(uuid.uuid4()), "", "\x00"]),
}


@with_fixtures
@example(changed={"name": "Groep 2"})
@example(changed={"name": "Groep 5/6", "year_level": "C"})
@example(changed={"external_key": "G2"})
@given(changed=a_few(GROUP_FIELDS))
def test_coordinator_renames_a_group(cast, fuzz, changed):
    group = cast.group_x5
    if changed.get("school") == "school_y":
        changed = changed | {"school": str(cast.school_y.pk)}
    posted = apply(
        {"name": group.name, "year_level": group.year_level, "external_key": ""}, changed
    )
    with fuzz.example():
        Group.objects.filter(pk=cast.group_x2.pk).update(external_key="G2")
        client = logged_in(cast.ict_x)
        before, was = row_counts(), row(group)
        response = client.post(change_url(group), posted)
        no_server_error(response)
        if not saved(response):
            refused(fuzz, response, before, (group, was))
            return
        fuzz.note("accepted")
        after = row(group)
        assert after["name"] == posted["name"].strip()
        assert after["school_id"] == cast.school_x.pk  # read-only once the group exists
        assert Group.objects.filter(school=cast.school_x, name=after["name"]).count() == 1
        assert changed_counts(before) == {"admin.LogEntry": 1}


@with_fixtures
@example(changed={"name": "Groep 2"})
@example(changed={"external_key": "G2"})
@given(changed=a_few(GROUP_FIELDS))
def test_coordinator_adds_a_group(cast, fuzz, changed):
    if changed.get("school") == "school_y":
        changed = changed | {"school": str(cast.school_y.pk)}
    posted = apply({"school": str(cast.school_x.pk), "name": "Groep 8", "year_level": "8"}, changed)
    with fuzz.example():
        Group.objects.filter(pk=cast.group_x2.pk).update(external_key="G2")
        client = logged_in(cast.ict_x)
        before = row_counts()
        response = client.post(reverse("admin:schools_group_add"), posted)
        no_server_error(response)
        if not saved(response):
            refused(fuzz, response, before)
            return
        fuzz.note("accepted")
        assert changed_counts(before) == {"admin.LogEntry": 1, "schools.Group": 1}
        new = Group.objects.get(school=cast.school_x, name=posted["name"].strip())
        assert new.school_id == cast.school_x.pk


STAFF_FIELDS = {
    "email": st.one_of(
        st.sampled_from(["juf.x@regenboog.nl", "JUF.X@regenboog.nl", "ouder.a@example.com"]),
        fuzzed.emails(),
    ),
    "role": st.one_of(st.sampled_from([*StaffRole.values, "superuser", ""]), fuzzed.text(8)),
    "groups": st.lists(
        st.sampled_from(["group_x5", "group_x7", "group_y5", "x", "\x00"]), max_size=3
    ),
    "school": st.sampled_from(["school_y", str(uuid.uuid4()), "", "\x00"]),
}


@with_fixtures
@example(changed={"email": " Nieuwe.Juf@Regenboog.NL ", "groups": ["group_x5", "group_x7"]})
@example(changed={"email": "juf.x@regenboog.nl"})
@example(changed={"email": "\u0130\u0130\u0130@regenboog.nl"})
@example(changed={"groups": ["group_y5"]})
@given(changed=a_few(STAFF_FIELDS))
def test_coordinator_adds_a_staff_member(cast, fuzz, changed):
    changed = dict(changed)
    if changed.get("school") == "school_y":
        changed["school"] = str(cast.school_y.pk)
    if "groups" in changed:
        changed["groups"] = [
            str(getattr(cast, name).pk) if name.startswith("group_") else name
            for name in changed["groups"]
        ]
    posted = apply(
        {"email": "meester.k@regenboog.nl", "school": str(cast.school_x.pk), "role": "teacher"},
        changed,
    )
    with fuzz.example():
        client = logged_in(cast.ict_x)
        before = row_counts()
        users = set(User.objects.values_list("email", flat=True))
        response = client.post(reverse("admin:schools_staffmembership_add"), posted)
        no_server_error(response)
        if not saved(response):
            refused(fuzz, response, before)
            return
        fuzz.note("accepted")
        email = normalize_email(posted["email"])
        membership = StaffMembership.objects.get(user__email=email, school=cast.school_x)
        new_user = email not in users
        invited = not membership.user.has_usable_password()
        assert changed_counts(before) == {
            key: value
            for key, value in {
                "admin.LogEntry": 1,
                "schools.StaffMembership": 1,
                "schools.StaffMembership_groups": len(set(posted.get("groups", []))),
                "accounts.User": int(new_user),
                "accounts.PasswordLink": int(invited),
                "post_office.Email": int(invited),
            }.items()
            if value
        }
        assert all(group.school_id == cast.school_x.pk for group in membership.groups.all())
        assert School.objects.count() == 2
