"""The scoping matrix of the admin: who sees, changes and deletes what.

Teacher X teaches groups 2 and 5 of school X (Daan and Emma), not group 7 (Lotte).
Teacher Y teaches group 5 of school Y (Yara). ICT coordinator X and school admin X
manage all of school X. Parent A is no staff member and gets nothing.
"""

from __future__ import annotations

import csv
import io
import re
import warnings

import pytest
from django.core.paginator import UnorderedObjectListWarning
from django.urls import reverse

from accounts.models import User
from schools.models import Group, Pupil, School, StaffMembership, StaffRole
from tests.conftest import PASSWORD
from tests.helpers import (
    PUPIL_CHANGELIST,
    change_url,
    delete_url,
    errors,
    form_data,
    fresh,
    html,
    ids,
    option_values,
    run_action,
)

pytestmark = pytest.mark.django_db

ALL_PUPILS = {"Emma Visser", "Daan Visser", "Lotte Dekker", "Yara Vos"}


# --- helpers -------------------------------------------------------------------------------


def names_in(text: str) -> set[str]:
    """The pupils of the cast whose full name appears in a page."""
    return {name for name in ALL_PUPILS if name in text}


def listed_pupils(client, user, **params) -> set[str]:
    client.force_login(user)
    response = client.get(PUPIL_CHANGELIST, params)
    assert response.status_code == 200
    shown = {pupil.full_name for pupil in response.context["cl"].result_list}
    # What the table holds and what the page shows are the same pupils.
    assert names_in(html(response)) == shown
    return shown


def pupil_fields(pupil: Pupil) -> dict:
    pupil = Pupil.objects.get(pk=pupil.pk)
    return {
        "first_name": pupil.first_name,
        "last_name": pupil.last_name,
        "group": pupil.group_id,
        "home_login_enabled": pupil.home_login_enabled,
        "pin_hash": pupil.pin_hash,
        "parents": sorted(pupil.parent_links.values_list("user__email", flat=True)),
    }


def hostile_post(group: Group) -> dict:
    """A complete, valid-looking pupil form, as someone outside the scope would send it."""
    return {
        "first_name": "Gewijzigd",
        "last_name": "Gewijzigd",
        "group": group.pk,
        "home_login_enabled": "on",
        "login_method": "pin",
        "new_pin": "9753",
        "parent_email_1": "indringer@example.com",
    }


# --- the pupil changelist ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("teacher_x", {"Emma Visser", "Daan Visser"}),
        ("teacher_y", {"Yara Vos"}),
        ("ict_x", {"Emma Visser", "Daan Visser", "Lotte Dekker"}),
        ("admin_x", {"Emma Visser", "Daan Visser", "Lotte Dekker"}),
        ("superuser", ALL_PUPILS),
    ],
)
def test_it_lists_only_the_pupils_in_scope(client, cast, who, expected):
    assert listed_pupils(client, getattr(cast, who)) == expected


def test_it_sends_a_parent_to_the_admin_login_without_any_data(client, cast):
    client.force_login(cast.parent_a)
    response = client.get(PUPIL_CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert names_in(html(client.get(PUPIL_CHANGELIST, follow=True))) == set()
    assert client.get(change_url(cast.emma)).status_code == 302


def test_it_sends_an_anonymous_visitor_to_the_admin_login(client, cast):
    response = client.get(PUPIL_CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- change pages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "pupil"),
    [
        ("teacher_x", "yara"),
        ("teacher_x", "lotte"),
        ("teacher_y", "emma"),
        ("teacher_y", "lotte"),
        ("ict_x", "yara"),
        ("admin_x", "yara"),
    ],
)
def test_it_answers_404_for_a_change_page_outside_the_scope(client, cast, who, pupil):
    client.force_login(getattr(cast, who))
    response = client.get(change_url(getattr(cast, pupil)))
    assert response.status_code == 404
    assert names_in(html(response)) == set()


@pytest.mark.parametrize(
    ("who", "pupil"),
    [
        ("teacher_x", "emma"),
        ("teacher_x", "daan"),
        ("teacher_y", "yara"),
        ("ict_x", "lotte"),
        ("admin_x", "emma"),
        ("superuser", "yara"),
    ],
)
def test_it_shows_the_change_page_of_a_pupil_in_scope(client, cast, who, pupil):
    pupil = getattr(cast, pupil)
    client.force_login(getattr(cast, who))
    response = client.get(change_url(pupil))
    assert response.status_code == 200
    assert response.context["adminform"].form.instance == pupil
    assert f'name="first_name" value="{pupil.first_name}"' in html(response)
    assert f'name="last_name" value="{pupil.last_name}"' in html(response)


@pytest.mark.parametrize(
    ("who", "pupil"),
    [("teacher_x", "yara"), ("teacher_x", "lotte"), ("teacher_y", "emma"), ("ict_x", "yara")],
)
def test_it_changes_nothing_when_posting_to_a_pupil_outside_the_scope(client, cast, who, pupil):
    pupil = getattr(cast, pupil)
    before = pupil_fields(pupil)
    users_before = User.objects.count()
    client.force_login(getattr(cast, who))
    response = client.post(change_url(pupil), hostile_post(pupil.group))
    assert response.status_code == 404
    assert pupil_fields(pupil) == before
    assert User.objects.count() == users_before


def test_it_answers_404_for_the_history_of_a_pupil_outside_the_scope(client, cast):
    client.force_login(cast.teacher_x)
    history = reverse("admin:schools_pupil_history", args=[cast.yara.pk])
    assert client.get(history).status_code == 404
    own = client.get(reverse("admin:schools_pupil_history", args=[cast.emma.pk]))
    assert own.status_code == 200
    assert "Emma Visser" in html(own)


def test_it_refuses_a_duplicate_administration_key_with_a_form_error(client, cast):
    # The database refuses it too; the teacher must get a message, not a server error.
    Pupil.objects.filter(pk=cast.emma.pk).update(external_key="LL-001")
    client.force_login(cast.ict_x)
    data = form_data(client.get(change_url(cast.daan)))
    response = client.post(change_url(cast.daan), {**data, "external_key": "LL-001"})
    assert response.status_code == 200
    assert "external_key" in response.context["adminform"].form.errors
    assert Pupil.objects.get(pk=cast.daan.pk).external_key == ""


def test_it_does_not_let_a_teacher_move_a_pupil_into_a_group_outside_the_scope(client, cast):
    client.force_login(cast.teacher_x)
    for group in (cast.group_x7, cast.group_y5):
        data = form_data(client.get(change_url(cast.emma)))
        response = client.post(change_url(cast.emma), {**data, "group": group.pk})
        assert response.status_code == 200
        assert "group" in response.context["adminform"].form.errors
    assert Pupil.objects.get(pk=cast.emma.pk).group == cast.group_x5


# --- deleting ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["teacher_x", "teacher_y"])
def test_it_does_not_let_teachers_delete_even_their_own_pupils(client, cast, who):
    teacher = getattr(cast, who)
    own = cast.emma if teacher == cast.teacher_x else cast.yara
    client.force_login(teacher)
    assert client.get(delete_url(own)).status_code == 403
    assert client.post(delete_url(own), {"post": "yes"}).status_code == 403
    # The bulk delete is not offered, and posting it anyway deletes nothing.
    changelist = client.get(PUPIL_CHANGELIST)
    assert "delete_selected" not in html(changelist)
    run_action(client, "delete_selected", [own])
    assert Pupil.objects.filter(pk=own.pk).exists()
    assert 'name="_delete"' not in html(client.get(change_url(own)))


def test_it_lets_the_ict_coordinator_delete_a_pupil_of_the_school(client, cast):
    client.force_login(cast.ict_x)
    confirm = client.get(delete_url(cast.lotte))
    assert confirm.status_code == 200
    assert "Lotte Dekker" in html(confirm)
    response = client.post(delete_url(cast.lotte), {"post": "yes"})
    assert response.status_code == 302
    assert not Pupil.objects.filter(pk=cast.lotte.pk).exists()
    assert Pupil.objects.filter(pk=cast.yara.pk).exists()


def test_it_answers_404_for_the_delete_page_of_a_pupil_of_another_school(client, cast):
    client.force_login(cast.ict_x)
    assert client.get(delete_url(cast.yara)).status_code == 404
    assert client.post(delete_url(cast.yara), {"post": "yes"}).status_code == 404
    assert Pupil.objects.filter(pk=cast.yara.pk).exists()


def test_it_bulk_deletes_only_pupils_in_scope(client, cast):
    client.force_login(cast.ict_x)
    response = client.post(
        PUPIL_CHANGELIST,
        {
            "action": "delete_selected",
            "index": 0,
            "_selected_action": [cast.lotte.pk, cast.yara.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Pupil.objects.filter(pk=cast.lotte.pk).exists()
    assert Pupil.objects.filter(pk=cast.yara.pk).exists()


# --- actions -------------------------------------------------------------------------------


def test_it_applies_a_bulk_action_only_to_pupils_in_scope(client, cast):
    client.force_login(cast.teacher_x)
    response = run_action(client, "enable_home_login", [cast.yara, cast.lotte, cast.daan])
    assert response.status_code == 302
    enabled = set(
        Pupil.objects.filter(home_login_enabled=True).values_list("first_name", flat=True)
    )
    # Emma was on already; of the three selected only Daan is teacher X's.
    assert enabled == {"Emma", "Daan"}


def test_it_exports_only_pupils_in_scope(client, cast):
    client.force_login(cast.teacher_x)
    response = run_action(client, "export_csv", [cast.emma, cast.daan, cast.lotte, cast.yara])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["voornaam", "tussenvoegsel", "achternaam"]
    assert sorted(row[0] for row in rows[1:]) == ["Daan", "Emma"]
    assert "Lotte" not in text
    assert "Yara" not in text
    assert "ouder.b@example.com" not in text


# --- search and filters --------------------------------------------------------------------


@pytest.mark.parametrize("term", ["Yara", "Vos", "ouder.b@example.com", "Lotte", "Dekker"])
def test_it_finds_nothing_outside_the_scope_when_searching(client, cast, term):
    assert listed_pupils(client, cast.teacher_x, q=term) == set()


def test_it_finds_pupils_in_scope_by_their_parents_address(client, cast):
    assert listed_pupils(client, cast.ict_x, q="ouder.a@example.com") == {
        "Emma Visser",
        "Daan Visser",
    }
    assert listed_pupils(client, cast.ict_x, q="ouder.b@example.com") == set()
    assert listed_pupils(client, cast.teacher_y, q="Vos") == {"Yara Vos"}


def test_it_offers_only_groups_in_scope_in_the_group_filter(client, cast):
    client.force_login(cast.teacher_x)
    page = html(client.get(PUPIL_CHANGELIST))
    offered = set(re.findall(r"group__code__exact=([0-9a-f-]{36})", page))
    assert offered == ids(cast.group_x2, cast.group_x5)


def test_it_ignores_a_group_filter_for_a_group_outside_the_scope(client, cast):
    client.force_login(cast.teacher_x)
    response = client.get(PUPIL_CHANGELIST, {"group__code__exact": cast.group_y5.pk})
    # The filter value is not checked against the offered choices, but it can only narrow
    # the scoped list: nothing of school Y comes back.
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert names_in(html(response)) == set()


# --- choices and autocomplete --------------------------------------------------------------


def test_it_offers_a_teacher_only_their_own_groups_on_the_pupil_form(client, cast):
    client.force_login(cast.teacher_x)
    page = html(client.get(change_url(cast.emma)))
    assert option_values(page, "group") == {"", *ids(cast.group_x2, cast.group_x5)}


def test_it_offers_the_ict_coordinator_all_groups_of_the_school(client, cast):
    client.force_login(cast.ict_x)
    page = html(client.get(reverse("admin:schools_pupil_add")))
    expected = {"", *ids(cast.group_x2, cast.group_x5, cast.group_x7)}
    assert option_values(page, "group") == expected


def autocomplete(client, app_label: str, model_name: str, field_name: str, term: str = ""):
    return client.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term},
    )


def autocomplete_ids(response) -> set[str]:
    assert response.status_code == 200
    return {result["id"] for result in response.json()["results"]}


def test_it_scopes_the_autocomplete_of_groups(client, cast):
    # No admin declares autocomplete_fields, but the endpoint answers for any foreign key
    # whose target admin has search fields: it must still keep to the scope. (The warning
    # about the unordered group list is the subject of the next test.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnorderedObjectListWarning)
        client.force_login(cast.teacher_x)
        teacher = autocomplete(client, "schools", "pupil", "group")
        client.force_login(cast.ict_x)
        ict = autocomplete(client, "schools", "pupil", "group", "Groep 5")
    assert autocomplete_ids(teacher) == ids(cast.group_x2, cast.group_x5)
    assert autocomplete_ids(ict) == ids(cast.group_x5)


def test_it_pages_the_groups_for_the_autocomplete_in_a_fixed_order(client, cast):
    # An unordered list would let pages of the autocomplete repeat or skip groups.
    client.force_login(cast.superuser)
    response = autocomplete(client, "schools", "pupil", "group")
    assert autocomplete_ids(response) == ids(
        cast.group_x2, cast.group_x5, cast.group_x7, cast.group_y5
    )


def test_it_scopes_the_autocomplete_of_pupils_and_schools(client, cast):
    client.force_login(cast.teacher_x)
    pupils = autocomplete(client, "accounts", "parentlink", "pupil")
    assert autocomplete_ids(pupils) == ids(cast.emma, cast.daan)
    assert "Yara" not in html(pupils)
    assert autocomplete_ids(autocomplete(client, "accounts", "parentlink", "pupil", "Vos")) == set()
    schools = autocomplete(client, "schools", "group", "school")
    assert autocomplete_ids(schools) == ids(cast.school_x)


def test_it_refuses_the_autocomplete_of_accounts_to_school_staff(client, cast):
    client.force_login(cast.ict_x)
    response = autocomplete(client, "schools", "staffmembership", "user", "ouder")
    assert response.status_code == 403
    assert "ouder.a@example.com" not in html(response)


# --- users with a role at two schools -----------------------------------------------------


@pytest.fixture
def ict_x_teaching_y(cast) -> User:
    """ICT coordinator X who also teaches group 5 of school Y (Yara's group)."""
    StaffMembership.objects.create(
        user=cast.ict_x, school=cast.school_y, role=StaffRole.TEACHER
    ).groups.set([cast.group_y5])
    return cast.ict_x


def test_it_offers_a_dual_role_user_only_groups_of_the_pupils_own_school(
    client, cast, ict_x_teaching_y
):
    client.force_login(ict_x_teaching_y)
    yara = client.get(change_url(cast.yara))
    assert yara.status_code == 200
    assert option_values(html(yara), "group") == {"", *ids(cast.group_y5)}
    # At school Y this user is a teacher: the administration keys are read only.
    assert "external_key" not in yara.context["adminform"].form.fields
    # At school X, which they manage: all groups of X, none of Y.
    lotte = client.get(change_url(cast.lotte))
    expected = {"", *ids(cast.group_x2, cast.group_x5, cast.group_x7)}
    assert option_values(html(lotte), "group") == expected
    assert "external_key" in lotte.context["adminform"].form.fields


def test_it_does_not_let_a_dual_role_user_move_a_pupil_to_the_school_they_manage(
    client, cast, ict_x_teaching_y
):
    before = pupil_fields(cast.yara)
    client.force_login(ict_x_teaching_y)
    data = form_data(client.get(change_url(cast.yara)))
    response = client.post(
        change_url(cast.yara), {**data, "group": cast.group_x7.pk, "first_name": "Gewijzigd"}
    )
    assert "group" in errors(response)
    assert pupil_fields(cast.yara) == before
    assert fresh(cast.yara).school == cast.school_y


def test_it_does_not_let_a_dual_role_user_delete_a_pupil_where_they_only_teach(
    client, cast, ict_x_teaching_y
):
    client.force_login(ict_x_teaching_y)
    assert delete_url(cast.yara) not in html(client.get(change_url(cast.yara)))
    assert client.get(delete_url(cast.yara)).status_code == 403
    assert client.post(delete_url(cast.yara), {"post": "yes"}).status_code == 403
    # The bulk delete is offered (they manage school X) but refuses Yara.
    bulk = client.post(
        PUPIL_CHANGELIST,
        {
            "action": "delete_selected",
            "index": 0,
            "_selected_action": [cast.yara.pk],
            "post": "yes",
        },
    )
    assert bulk.status_code == 403
    assert Pupil.objects.filter(pk=cast.yara.pk).exists()


def test_it_does_not_let_a_manager_add_pupils_where_they_are_only_a_teacher(
    client, cast, ict_x_teaching_y
):
    # Managing school X gives no right to add pupils at school Y, where one only teaches.
    client.force_login(ict_x_teaching_y)
    page = html(client.get(reverse("admin:schools_pupil_add")))
    assert option_values(page, "group") == {
        "",
        *ids(cast.group_x2, cast.group_x5, cast.group_x7),
    }
    response = client.post(
        reverse("admin:schools_pupil_add"),
        {
            "first_name": "Sem",
            "last_name": "Bakker",
            "group": cast.group_y5.pk,
            "login_method": "pin",
            "new_pin": "1357",
        },
    )
    assert "group" in errors(response)
    assert not Pupil.objects.filter(first_name="Sem").exists()


def test_it_does_not_let_a_teacher_of_two_schools_move_a_pupil_to_the_other_school(client, cast):
    StaffMembership.objects.create(
        user=cast.teacher_x, school=cast.school_y, role=StaffRole.TEACHER
    ).groups.set([cast.group_y5])
    client.force_login(cast.teacher_x)
    page = client.get(change_url(cast.emma))
    assert option_values(html(page), "group") == {"", *ids(cast.group_x2, cast.group_x5)}
    before = pupil_fields(cast.emma)
    response = client.post(change_url(cast.emma), {**form_data(page), "group": cast.group_y5.pk})
    assert "group" in errors(response)
    assert pupil_fields(cast.emma) == before
    assert fresh(cast.emma).school == cast.school_x


# --- groups --------------------------------------------------------------------------------


def test_it_lists_only_the_groups_in_scope(client, cast):
    client.force_login(cast.teacher_x)
    response = client.get(reverse("admin:schools_group_changelist"))
    assert set(response.context["cl"].result_list) == {cast.group_x2, cast.group_x5}
    page = html(response)
    assert "Groep 7" not in page
    assert "De Zonnewijzer" not in page
    assert client.get(change_url(cast.group_x7)).status_code == 404
    assert client.get(change_url(cast.group_y5)).status_code == 404


def test_it_does_not_let_a_teacher_change_a_group(client, cast):
    client.force_login(cast.teacher_x)
    data = {"school": cast.school_x.pk, "name": "Groep 5b", "year_level": "5"}
    assert client.post(change_url(cast.group_x5), data).status_code == 403
    assert Group.objects.get(pk=cast.group_x5.pk).name == "Groep 5"
    add = client.post(reverse("admin:schools_group_add"), {**data, "name": "Nieuw"})
    assert add.status_code == 403
    assert not Group.objects.filter(name="Nieuw").exists()


def test_it_does_not_let_the_ict_coordinator_add_a_group_to_another_school(client, cast):
    client.force_login(cast.ict_x)
    response = client.post(
        reverse("admin:schools_group_add"),
        {"school": cast.school_y.pk, "name": "Groep 8", "year_level": "8"},
    )
    assert response.status_code == 200
    assert "school" in response.context["adminform"].form.errors
    assert not Group.objects.filter(name="Groep 8").exists()


def test_it_keeps_a_group_at_its_school(client, cast):
    # Even the superuser, who may choose any school on the add page.
    client.force_login(cast.superuser)
    page = client.get(change_url(cast.group_x7))
    assert 'name="school"' not in html(page)
    assert "De Regenboog" in html(page)
    response = client.post(
        change_url(cast.group_x7),
        {**form_data(page), "school": cast.school_y.pk, "name": "Groep 7b"},
    )
    assert response.status_code == 302
    group = fresh(cast.group_x7)
    assert (group.school, group.name) == (cast.school_x, "Groep 7b")
    assert fresh(cast.lotte).school == cast.school_x


# --- schools -------------------------------------------------------------------------------


def test_it_lists_only_the_users_own_school(client, cast):
    client.force_login(cast.teacher_x)
    response = client.get(reverse("admin:schools_school_changelist"))
    assert list(response.context["cl"].result_list) == [cast.school_x]
    assert "De Zonnewijzer" not in html(response)
    client.force_login(cast.teacher_y)
    assert client.get(change_url(cast.school_x)).status_code == 404


def test_it_does_not_let_a_teacher_change_the_school(client, cast):
    client.force_login(cast.teacher_x)
    page = client.get(change_url(cast.school_x))
    assert page.status_code == 200
    assert 'name="brin"' not in html(page)  # read only
    response = client.post(
        change_url(cast.school_x),
        {
            "name": "Overgenomen",
            "brin": "99ZZ",
            "location_code": "05",
            "home_login_allowed": "",
            "picture_password_length": 3,
        },
    )
    assert response.status_code == 403
    school = School.objects.get(pk=cast.school_x.pk)
    assert (school.name, school.brin, school.location_code) == ("De Regenboog", "12AB", "00")
    assert school.home_login_allowed
    assert school.picture_password_length == 2


def test_it_lets_the_ict_coordinator_change_the_school_but_not_its_brin(client, cast):
    client.force_login(cast.ict_x)
    data = form_data(client.get(change_url(cast.school_x)))
    assert "brin" not in data
    response = client.post(
        change_url(cast.school_x),
        {**data, "name": "De Regenboog Noord", "brin": "99ZZ", "location_code": "05"},
    )
    assert response.status_code == 302
    school = School.objects.get(pk=cast.school_x.pk)
    assert (school.name, school.brin, school.location_code) == ("De Regenboog Noord", "12AB", "00")


def test_it_clears_picture_passwords_when_the_picture_password_length_changes(client, cast):
    cast.yara.set_picture_password(["kat", "zon"])
    cast.yara.save()
    client.force_login(cast.ict_x)
    # Saving the school with the same length keeps every picture password.
    data = form_data(client.get(change_url(cast.school_x)))
    unchanged = client.post(change_url(cast.school_x), data, follow=True)
    assert "plaatjeswachtwoord nodig" not in html(unchanged)
    assert fresh(cast.daan).check_picture_password(["kat", "zon"])

    response = client.post(
        change_url(cast.school_x), {**data, "picture_password_length": 3}, follow=True
    )
    assert "1 leerling heeft nu een nieuw plaatjeswachtwoord nodig." in html(response)
    assert fresh(cast.school_x).picture_password_length == 3
    assert not fresh(cast.daan).has_picture_password
    assert fresh(cast.emma).check_pin("2468")
    # School Y keeps its length and its pupils their pictures.
    assert fresh(cast.yara).check_picture_password(["kat", "zon"])


def test_it_lets_only_the_superuser_add_or_delete_schools(client, cast):
    client.force_login(cast.ict_x)
    assert client.get(reverse("admin:schools_school_add")).status_code == 403
    assert client.post(delete_url(cast.school_x), {"post": "yes"}).status_code == 403
    assert School.objects.filter(pk=cast.school_x.pk).exists()
    client.force_login(cast.superuser)
    assert client.get(reverse("admin:schools_school_add")).status_code == 200


# --- staff memberships ---------------------------------------------------------------------

MEMBERSHIP_CHANGELIST = reverse("admin:schools_staffmembership_changelist")
MEMBERSHIP_ADD = reverse("admin:schools_staffmembership_add")


def test_it_keeps_teachers_out_of_the_staff_admin(client, cast):
    client.force_login(cast.teacher_x)
    response = client.get(MEMBERSHIP_CHANGELIST)
    assert response.status_code == 403
    assert "juf.y@zonnewijzer.nl" not in html(response)
    own = StaffMembership.objects.get(user=cast.teacher_x)
    assert client.get(change_url(own)).status_code == 403
    assert client.get(MEMBERSHIP_ADD).status_code == 403
    assert MEMBERSHIP_CHANGELIST not in html(client.get(reverse("admin:index")))


def test_it_shows_the_ict_coordinator_only_the_staff_of_the_school(client, cast):
    client.force_login(cast.ict_x)
    response = client.get(MEMBERSHIP_CHANGELIST)
    assert response.status_code == 200
    shown = {membership.user.email for membership in response.context["cl"].result_list}
    assert shown == {"juf.x@regenboog.nl", "ict.x@regenboog.nl", "directie.x@regenboog.nl"}
    page = html(response)
    assert "juf.x@regenboog.nl" in page
    assert "juf.y@zonnewijzer.nl" not in page
    other = StaffMembership.objects.get(user=cast.teacher_y)
    assert client.get(change_url(other)).status_code == 404


def test_it_does_not_let_the_ict_coordinator_add_staff_to_another_school(client, cast):
    client.force_login(cast.ict_x)
    page = html(client.get(MEMBERSHIP_ADD))
    assert option_values(page, "school") == {"", *ids(cast.school_x)}
    response = client.post(
        MEMBERSHIP_ADD,
        {"email": "nieuw@example.com", "school": cast.school_y.pk, "role": StaffRole.TEACHER},
    )
    assert response.status_code == 200
    assert "school" in response.context["adminform"].form.errors
    assert (
        not StaffMembership.objects.filter(school=cast.school_y, role="teacher")
        .exclude(user=cast.teacher_y)
        .exists()
    )
    assert not User.objects.filter(email="nieuw@example.com").exists()


def test_it_does_not_let_the_ict_coordinator_give_staff_groups_of_another_school(client, cast):
    client.force_login(cast.ict_x)
    response = client.post(
        MEMBERSHIP_ADD,
        {
            "email": "nieuw@example.com",
            "school": cast.school_x.pk,
            "role": StaffRole.TEACHER,
            "groups": [cast.group_x7.pk, cast.group_y5.pk],
        },
    )
    assert response.status_code == 200
    assert "groups" in response.context["adminform"].form.errors
    assert not User.objects.filter(email="nieuw@example.com").exists()
    # Nor on an existing membership.
    membership = StaffMembership.objects.get(user=cast.teacher_x)
    data = form_data(client.get(change_url(membership)))
    response = client.post(change_url(membership), {**data, "groups": [cast.group_y5.pk]})
    assert response.status_code == 200
    assert set(membership.groups.all()) == {cast.group_x2, cast.group_x5}


def test_it_lets_the_ict_coordinator_add_a_teacher_to_the_school(client, cast):
    client.force_login(cast.ict_x)
    response = client.post(
        MEMBERSHIP_ADD,
        {
            "email": " Meester.Nieuw@Example.com ",
            "school": cast.school_x.pk,
            "role": StaffRole.TEACHER,
            "groups": [cast.group_x7.pk],
        },
    )
    assert response.status_code == 302
    membership = StaffMembership.objects.get(user__email="meester.nieuw@example.com")
    assert membership.school == cast.school_x
    assert list(membership.groups.all()) == [cast.group_x7]


def test_it_keeps_a_membership_at_its_school(client, cast):
    membership = StaffMembership.objects.get(user=cast.teacher_x)
    client.force_login(cast.superuser)
    page = client.get(change_url(membership))
    assert 'name="school"' not in html(page)
    response = client.post(
        change_url(membership),
        {**form_data(page), "school": cast.school_y.pk, "role": StaffRole.SCHOOL_ADMIN},
    )
    assert response.status_code == 302
    membership = fresh(membership)
    assert membership.school == cast.school_x
    assert membership.role == StaffRole.SCHOOL_ADMIN
    assert set(membership.groups.all()) == {cast.group_x2, cast.group_x5}


def test_it_refuses_groups_of_another_school_on_an_existing_membership_with_a_form_error(
    client, cast
):
    # The superuser is offered every group, and the school is read only on this page:
    # the form must still check the groups against the membership's school.
    membership = StaffMembership.objects.get(user=cast.teacher_x)
    client.force_login(cast.superuser)
    data = form_data(client.get(change_url(membership)))
    response = client.post(
        change_url(membership), {**data, "groups": [cast.group_x5.pk, cast.group_y5.pk]}
    )
    assert "groups" in errors(response)
    assert set(membership.groups.all()) == {cast.group_x2, cast.group_x5}


def test_it_refuses_a_second_membership_at_the_same_school_with_a_form_error(client, cast):
    client.force_login(cast.ict_x)
    response = client.post(
        MEMBERSHIP_ADD,
        {
            "email": " Juf.X@Regenboog.NL",
            "school": cast.school_x.pk,
            "role": StaffRole.SCHOOL_ADMIN,
        },
    )
    assert errors(response)["email"] == ["Deze persoon is al medewerker van deze school."]
    roles = StaffMembership.objects.filter(user=cast.teacher_x).values_list("role", flat=True)
    assert list(roles) == [StaffRole.TEACHER]


# --- accounts ------------------------------------------------------------------------------


def test_it_shows_the_user_admin_only_to_the_superuser(client, cast):
    users = reverse("admin:accounts_user_changelist")
    for who in ("teacher_x", "ict_x", "admin_x"):
        client.force_login(getattr(cast, who))
        response = client.get(users)
        assert response.status_code == 403
        assert "ouder.b@example.com" not in html(response)
        assert users not in html(client.get(reverse("admin:index")))
        assert (
            client.get(reverse("admin:accounts_user_change", args=[cast.parent_a.pk])).status_code
            == 403
        )
    client.force_login(cast.superuser)
    response = client.get(users)
    assert response.status_code == 200
    assert "ouder.b@example.com" in html(response)
    assert users in html(client.get(reverse("admin:index")))


# --- logging in ----------------------------------------------------------------------------


def login(client, email: str, password: str = PASSWORD):
    return client.post(reverse("admin:login"), {"username": email, "password": password})


def test_it_refuses_a_parent_at_the_admin_login_like_a_wrong_password(client, cast):
    wrong = login(client, cast.teacher_x.email, "verkeerd-wachtwoord")
    parent = login(client, cast.parent_a.email)
    assert parent.status_code == wrong.status_code == 200
    errors = parent.context["form"].non_field_errors()
    assert errors == wrong.context["form"].non_field_errors()
    assert "Vul het juiste e-mailadres en wachtwoord van een schoolaccount in" in errors[0]
    assert "_auth_user_id" not in client.session


def test_it_admits_a_teacher_at_the_admin_login(client, cast):
    response = login(client, " Juf.X@Regenboog.NL")
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == cast.teacher_x.pk
    assert listed_pupils(client, cast.teacher_x) == {"Emma Visser", "Daan Visser"}
