"""The pupil's admin form: names, parents' addresses, PIN, pictures, group, leaving date.

A refused form changes nothing at all; a saved one changes exactly the pupil, the parent
links it names, the accounts and e-mails those need, and one admin log entry.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

from django.contrib.auth.hashers import check_password
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from accounts.models import ParentLink, User, normalize_email
from schools.models import Pupil
from tests.fuzz import strategies as fuzzed
from tests.fuzz.support import (
    changed_counts,
    logged_in,
    no_server_error,
    row,
    row_counts,
    with_fixtures,
)
from tests.helpers import PUPIL_CHANGELIST, change_url, saved

ADD = reverse("admin:schools_pupil_add")
#: Addresses already in the cast: parents with a password, and a teacher of the school.
KNOWN = [
    "ouder.a@example.com",
    "OUDER.B@example.com ",
    "juf.x@regenboog.nl",
    "beheer@thuisportaal.nl",
]
REMOVE = None  # a field left out of the post, as an unticked checkbox is


def addresses():
    return st.one_of(st.just(""), st.sampled_from(KNOWN), fuzzed.emails())


#: Groups by their name in the cast (looked up per test), and values that are no group at all.
GROUPS = ["group_x5", "group_x2", "group_x7", "group_y5", "", "Groep 5", str(uuid.uuid4()), "\x00"]


def changes():
    """A few of the form's fields, each replaced by something else."""
    fields = {
        "first_name": fuzzed.names(),
        "infix": st.one_of(st.sampled_from(["van", "van der", "de", " 't "]), fuzzed.text(12)),
        "last_name": fuzzed.names(),
        "group": st.sampled_from(GROUPS),
        "home_login_enabled": st.sampled_from([REMOVE, "on", "", "off", "false", "\x00"]),
        "login_method": st.one_of(
            st.sampled_from(["pin", "pictures", "", "PIN", "pin\x00"]), fuzzed.text(8)
        ),
        "parent_email_1": addresses(),
        "parent_email_2": addresses(),
        "confirm_addresses": st.sampled_from([REMOVE, "on"]),
        "new_pin": st.one_of(st.just(""), fuzzed.pins()),
        "picture_1": fuzzed.picture_names(),
        "picture_2": fuzzed.picture_names(),
        "picture_3": fuzzed.picture_names(),
        "left_on": st.one_of(
            st.sampled_from(
                [
                    "",
                    "2025-01-31",
                    "2999-12-31",
                    "31-01-2025",
                    "2025-02-30",
                    "0000-00-00",
                    "99999-01-01",
                ]
            ),
            fuzzed.text(12),
        ),
        "external_key": fuzzed.text(),
        "eck_id": fuzzed.text(),
    }
    return st.lists(st.sampled_from(sorted(fields)), max_size=5, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({name: fields[name] for name in chosen})
    )


def base_data(cast, pupil: Pupil) -> dict:
    """The change form as the browser sends it back unchanged."""
    data = {
        "first_name": pupil.first_name,
        "infix": pupil.infix,
        "last_name": pupil.last_name,
        "group": str(pupil.group_id),
        "login_method": pupil.login_method,
        "external_key": "",
        "eck_id": "",
        "left_on": "",
        "new_pin": "",
        "parent_email_2": "",
        "picture_1": "",
        "picture_2": "",
        "picture_3": "",
    }
    links = list(pupil.parent_links.select_related("user").order_by("slot"))
    for link in links:
        data[f"parent_email_{link.slot}"] = link.user.email
    if pupil.home_login_enabled:
        data["home_login_enabled"] = "on"
    return data


def apply(cast, data: dict, changed: dict) -> dict:
    data = dict(data)
    for name, value in changed.items():
        if name == "group" and value.startswith("group_"):
            data[name] = str(getattr(cast, value).pk)
        elif value is REMOVE:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def emails_of(pupil_pk) -> list[str]:
    return list(
        ParentLink.objects.filter(pupil_id=pupil_pk)
        .order_by("slot")
        .values_list("user__email", flat=True)
    )


def snapshot(pupil_pk) -> tuple:
    return row(Pupil(pk=pupil_pk)), emails_of(pupil_pk)


def expected_addresses(data: dict) -> list[str]:
    typed = (data.get("parent_email_1", ""), data.get("parent_email_2", ""))
    return [normalize_email(address) for address in typed if normalize_email(address)]


def check_saved(fuzz, before_counts, before_row, before_emails, pupil_pk, data, *, added=False):
    """The pupil is as posted, and only what that needs was written."""
    fuzz.note("accepted")
    after = row(Pupil(pk=pupil_pk))
    for name in ("first_name", "infix", "last_name"):
        assert after[name] == data.get(name, "").strip(), name
        assert "\x00" not in after[name]
    addresses = expected_addresses(data)
    assert emails_of(pupil_pk) == addresses
    new_addresses = [a for a in addresses if a not in before_emails]
    new_users = [a for a in new_addresses if a not in before_counts["_users"]]
    told = new_addresses if after["home_login_enabled"] else []
    expected = {
        "admin.LogEntry": 1,
        "schools.Pupil": 1 if added else 0,
        "accounts.User": len(new_users),
        "accounts.ParentLink": len(addresses) - len(before_emails),
        "post_office.Email": len(told),
        # Invitations carry a link; a parent with a password gets a short notice instead.
        "accounts.PasswordLink": len(
            [a for a in told if not User.objects.get(email=a).has_usable_password()]
        ),
    }
    counts = {k: v for k, v in before_counts.items() if k != "_users"}
    assert changed_counts(counts) == {k: v for k, v in expected.items() if v}
    pin = (data.get("new_pin") or "").strip()
    if pin:
        assert check_password(pin, after["pin_hash"])
        assert after["pin_hash"] != before_row.get("pin_hash")
    elif not added:
        assert after["pin_hash"] == before_row["pin_hash"]
    pictures = [data.get(name) for name in ("picture_1", "picture_2", "picture_3")]
    if any(pictures):
        assert check_password(",".join(p for p in pictures if p), after["picture_password_hash"])
    elif not added:
        assert after["picture_password_hash"] == before_row["picture_password_hash"]
    if after["home_login_enabled"]:
        assert after["left_on"] is None


def counts_with_users() -> dict:
    counts = row_counts()
    counts["_users"] = set(User.objects.values_list("email", flat=True))
    return counts


SOMETHING_OF_EVERYTHING = {
    "first_name": " Zoë ",
    "infix": "van der",
    "parent_email_1": " Nieuwe.Ouder@Example.NL ",
    "parent_email_2": "ouder.a@example.com",
    "new_pin": "1357",
    "picture_1": "boot",
    "picture_2": "maan",
    "group": "group_x2",
}


@with_fixtures
@example(changed=SOMETHING_OF_EVERYTHING)
@example(changed={"first_name": "Emma\x00", "parent_email_1": "nieuw@example.nl"})
@example(changed={"parent_email_2": "ouder@gmial.com", "confirm_addresses": "on"})
@example(changed={"home_login_enabled": REMOVE, "left_on": "2025-01-31", "new_pin": "١٢٣٤"})
@given(changed=changes())
def test_teacher_changes_a_pupil(cast, fuzz, changed):
    with fuzz.example():
        client = logged_in(cast.teacher_x)
        posted = apply(cast, base_data(cast, cast.emma), changed)
        # A teacher may not change the keys from the administration system: not sent back.
        posted.pop("external_key"), posted.pop("eck_id")
        before = counts_with_users()
        before_row, before_emails = snapshot(cast.emma.pk)
        response = client.post(change_url(cast.emma), posted)
        no_server_error(response)
        if saved(response):
            check_saved(fuzz, before, before_row, before_emails, cast.emma.pk, posted)
        else:
            fuzz.note("refused")
            assert response.context["adminform"].form.errors
            assert changed_counts({k: v for k, v in before.items() if k != "_users"}) == {}
            assert snapshot(cast.emma.pk) == (before_row, before_emails)


@with_fixtures
@example(changed=SOMETHING_OF_EVERYTHING | {"home_login_enabled": "on"})
@example(
    changed={"external_key": "E1", "eck_id": "https://ketenid.nl/x", "parent_email_1": "a@b.nl"}
)
@given(changed=changes())
def test_coordinator_adds_a_pupil(cast, fuzz, changed):
    with fuzz.example():
        # Keys that another pupil of the school already has (the database refuses them twice).
        Pupil.objects.filter(pk=cast.lotte.pk).update(
            external_key="E1", eck_id="https://ketenid.nl/x"
        )
        client = logged_in(cast.ict_x)
        posted = apply(
            cast,
            {
                "first_name": "Noah",
                "last_name": "Bakker",
                "group": str(cast.group_x5.pk),
                "login_method": "pin",
            },
            changed,
        )
        before = counts_with_users()
        existing = set(Pupil.objects.values_list("pk", flat=True))
        response = client.post(ADD, posted)
        no_server_error(response)
        if saved(response):
            (new,) = Pupil.objects.exclude(pk__in=existing)
            assert new.school_id == cast.school_x.pk
            check_saved(fuzz, before, {}, [], new.pk, posted, added=True)
        else:
            fuzz.note("refused")
            assert response.context["adminform"].form.errors
            assert changed_counts({k: v for k, v in before.items() if k != "_users"}) == {}


@with_fixtures
@example(query={"q": "\x00"})
@example(query={"q": "Emma\x00", "home_login_enabled__exact": "\x00"})
@given(
    query=st.fixed_dictionaries(
        {},
        optional={
            "q": fuzzed.text(),
            "group__code__exact": st.one_of(st.just("x"), fuzzed.text(36)),
            "home_login_enabled__exact": st.sampled_from(["0", "1", "2", "", "\x00", "ja"]),
            "login_method__exact": fuzzed.text(10),
            "status": fuzzed.text(10),
            "o": st.sampled_from(["1", "-2", "99", "x", "1.2.3", ""]),
            "p": st.sampled_from(["0", "1", "2", "-1", "x", "99999999999999999999"]),
        },
    )
)
def test_teacher_searches_and_filters_the_pupil_list(cast, fuzz, query):
    with fuzz.example():
        before = row_counts()
        response = logged_in(cast.teacher_x).get(PUPIL_CHANGELIST, query)
        no_server_error(response)
        assert response.status_code in (200, 302)
        fuzz.note("shown" if response.status_code == 200 else "reset")
        assert changed_counts(before) == {}


ACTIONS = [
    "enable_home_login",
    "disable_home_login",
    "make_new_pins",
    "resend_invitations",
    "unlock",
    "export_csv",
    "delete_selected",
    "",
    "unknown",
    "\x00",
]
#: Pupils by their name in the cast, and values that are no pupil at all.
PUPILS = ["emma", "daan", "lotte", "yara", "", "x", "\x00", str(uuid.uuid4())]


def pupil_ids(cast, names: list[str]) -> list[str]:
    return [str(getattr(cast, name).pk) if hasattr(cast, name) and name else name for name in names]


@with_fixtures
@example(action="enable_home_login", selected=["daan", "lotte", "yara"], across=None, index="0")
@example(action="make_new_pins", selected=[], across="1", index="0")
@example(action="delete_selected", selected=["emma", "yara"], across=None, index="0")
@given(
    action=st.one_of(st.sampled_from(ACTIONS), fuzzed.text(10)),
    selected=st.lists(st.sampled_from(PUPILS), max_size=5),
    across=st.sampled_from([None, "0", "1", "x"]),
    index=st.sampled_from([None, "0", "1", "-1", "x"]),
)
def test_teacher_runs_an_action_on_some_pupils(cast, fuzz, action, selected, across, index):
    data = {"action": action, "_selected_action": pupil_ids(cast, selected)}
    data |= {name: value for name, value in (("select_across", across), ("index", index)) if value}
    with fuzz.example():
        # Lotte is in a group teacher X does not teach, Yara at another school.
        outsiders = [(pupil, row(pupil)) for pupil in (cast.lotte, cast.yara)]
        before = row_counts()
        response = logged_in(cast.teacher_x).post(PUPIL_CHANGELIST, data)
        no_server_error(response)
        fuzz.note(str(response.status_code))
        for pupil, was in outsiders:
            assert row(pupil) == was
        changes = changed_counts(before)
        # Switching home login on tells a parent not yet told (Daan's): one e-mail, maybe a link.
        assert set(changes) <= {"post_office.Email", "accounts.PasswordLink"}, changes


@with_fixtures
@given(who=st.one_of(st.sampled_from(PUPILS), fuzzed.text(12)))
def test_new_pin_button_for_any_address(cast, fuzz, who):
    object_id = pupil_ids(cast, [who])[0] if who in PUPILS else who
    with fuzz.example():
        outsiders = [(pupil, row(pupil)) for pupil in (cast.lotte, cast.yara)]
        before = row_counts()
        url = (
            reverse("admin:schools_pupil_changelist")
            + f"{quote(object_id, safe='')}/nieuwe-pincode/"
        )
        response = logged_in(cast.teacher_x).post(url)
        no_server_error(response)
        fuzz.note(str(response.status_code))
        assert response.status_code in (200, 302, 404)
        if response.status_code == 200:
            assert who in ("emma", "daan")
        for pupil, was in outsiders:
            assert row(pupil) == was
        assert changed_counts(before) == {}
