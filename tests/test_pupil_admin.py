"""What a teacher does on a pupil in the admin (teacher X on Emma and Daan unless stated)."""

from __future__ import annotations

import io
import re

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import ParentLink, User
from schools.models import LoginMethod, Pupil

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:schools_pupil_changelist")
ADD = reverse("admin:schools_pupil_add")


# --- helpers -------------------------------------------------------------------------------


def change_url(pupil: Pupil) -> str:
    return reverse("admin:schools_pupil_change", args=[pupil.pk])


def fresh(pupil: Pupil) -> Pupil:
    return Pupil.objects.get(pk=pupil.pk)


def form_data(response) -> dict:
    """POST data that re-submits the change form on ``response`` unchanged.

    Built from the form's current values, so it holds the extra fields as well
    (parent_email_1/2, new_pin, picture_1..3); no file is sent, so the photo stays.
    """
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.disabled or isinstance(field, forms.FileField) or value in (None, False):
            continue
        data[name] = "on" if value is True else value
    return data


def post_change(client, pupil: Pupil, **changes):
    """Open the pupil's change form and save it with ``changes``; ``None`` clears a field."""
    page = client.get(change_url(pupil))
    assert page.status_code == 200
    data = form_data(page)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(change_url(pupil), data)


def saved(response) -> bool:
    if response.status_code == 200 and "adminform" in response.context:
        return False
    assert response.status_code == 302, response.status_code
    return True


def errors(response) -> dict[str, list[str]]:
    assert response.status_code == 200
    return {
        name: list(messages) for name, messages in response.context["adminform"].form.errors.items()
    }


def run_action(client, action: str, pupils):
    return client.post(
        CHANGELIST, {"action": action, "index": 0, "_selected_action": [p.pk for p in pupils]}
    )


def parent_emails(pupil: Pupil) -> list[tuple[int, str]]:
    return list(
        ParentLink.objects.filter(pupil=pupil).order_by("slot").values_list("slot", "user__email")
    )


def png(size=(400, 300)) -> bytes:
    image = Image.new("RGB", size, (220, 30, 30))
    ImageDraw.Draw(image).ellipse((50, 50, 250, 250), fill=(30, 60, 220))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def teacher(client, cast):
    client.force_login(cast.teacher_x)
    return client


# --- home login ----------------------------------------------------------------------------


def test_it_switches_home_login_off_and_on_in_the_change_form(teacher, cast):
    assert fresh(cast.emma).home_login_enabled
    assert saved(post_change(teacher, cast.emma, home_login_enabled=None))
    assert not fresh(cast.emma).home_login_enabled
    assert saved(post_change(teacher, cast.emma, home_login_enabled="on"))
    assert fresh(cast.emma).home_login_enabled


def test_it_switches_home_login_with_the_bulk_actions(teacher, cast):
    response = run_action(teacher, "disable_home_login", [cast.emma, cast.daan])
    assert response.status_code == 302
    assert not fresh(cast.emma).home_login_enabled
    assert not fresh(cast.daan).home_login_enabled

    run_action(teacher, "enable_home_login", [cast.emma, cast.daan])
    assert fresh(cast.emma).home_login_enabled
    assert fresh(cast.daan).home_login_enabled


def test_it_does_not_switch_on_home_login_for_a_pupil_who_has_left(teacher, cast):
    Pupil.objects.filter(pk=cast.daan.pk).update(left_on=timezone.localdate())
    response = run_action(teacher, "enable_home_login", [cast.daan, cast.emma])
    assert not fresh(cast.daan).home_login_enabled
    assert fresh(cast.emma).home_login_enabled
    page = teacher.get(response["Location"]).content.decode()
    assert "Thuis inloggen staat aan voor 1 leerling." in page


def test_it_does_not_switch_on_home_login_in_the_form_for_a_pupil_who_has_left(teacher, cast):
    # The parents must not get the tile of a child who has left the school.
    Pupil.objects.filter(pk=cast.daan.pk).update(left_on=timezone.localdate())
    post_change(teacher, cast.daan, home_login_enabled="on")
    assert not fresh(cast.daan).home_login_enabled


# --- parents' addresses --------------------------------------------------------------------


def test_it_stores_parent_addresses_normalised_and_reuses_existing_accounts(teacher, cast):
    users_before = User.objects.count()
    response = post_change(
        teacher,
        cast.daan,
        parent_email_1="  Nieuwe.Ouder@Example.COM ",
        parent_email_2=" OUDER.A@EXAMPLE.COM",
    )
    assert saved(response)
    assert parent_emails(cast.daan) == [
        (1, "nieuwe.ouder@example.com"),
        (2, "ouder.a@example.com"),
    ]
    # One new account for the new address; parent A's own account for the capitals.
    assert User.objects.count() == users_before + 1
    assert ParentLink.objects.get(pupil=cast.daan, slot=2).user == cast.parent_a
    new_parent = User.objects.get(email="nieuwe.ouder@example.com")
    assert not new_parent.has_usable_password()
    assert not new_parent.is_staff


def test_it_changes_and_clears_parent_addresses(teacher, cast):
    post_change(teacher, cast.emma, parent_email_2="tweede@example.com")
    assert parent_emails(cast.emma) == [(1, "ouder.a@example.com"), (2, "tweede@example.com")]

    assert saved(post_change(teacher, cast.emma, parent_email_2="Derde@Example.com"))
    assert parent_emails(cast.emma) == [(1, "ouder.a@example.com"), (2, "derde@example.com")]

    assert saved(post_change(teacher, cast.emma, parent_email_1=""))
    assert parent_emails(cast.emma) == [(1, "derde@example.com")]
    # The account stays: parent A is still Daan's parent.
    assert parent_emails(cast.daan) == [(1, "ouder.a@example.com")]


def test_it_offers_no_third_parent_address(teacher, cast):
    form = teacher.get(change_url(cast.emma)).context["adminform"].form
    assert [name for name in form.fields if name.startswith("parent_email")] == [
        "parent_email_1",
        "parent_email_2",
    ]
    response = post_change(
        teacher,
        cast.emma,
        parent_email_2="tweede@example.com",
        parent_email_3="derde@example.com",
    )
    assert saved(response)
    assert parent_emails(cast.emma) == [(1, "ouder.a@example.com"), (2, "tweede@example.com")]
    assert not User.objects.filter(email="derde@example.com").exists()


def test_it_refuses_the_same_parent_address_twice(teacher, cast):
    response = post_change(
        teacher,
        cast.emma,
        parent_email_1="ouder.b@example.com",
        parent_email_2=" Ouder.B@Example.com",
    )
    assert errors(response)["parent_email_2"] == ["Dit adres staat er twee keer in."]
    assert parent_emails(cast.emma) == [(1, "ouder.a@example.com")]


@pytest.mark.parametrize("address", ["ouder@@example", "ouder example.com"])
def test_it_refuses_an_invalid_parent_address_and_saves_nothing(teacher, cast, address):
    users_before = User.objects.count()
    response = post_change(
        teacher, cast.emma, first_name="Emmy", parent_email_1=address, home_login_enabled=None
    )
    assert not saved(response)
    assert "Voer een geldig e-mailadres in." in response.content.decode()
    emma = fresh(cast.emma)
    assert emma.first_name == "Emma"
    assert emma.home_login_enabled
    assert parent_emails(emma) == [(1, "ouder.a@example.com")]
    assert User.objects.count() == users_before


def test_it_shows_the_error_for_an_invalid_second_address_at_that_address(teacher, cast):
    # Nothing is saved, and the message stands next to the address that is wrong.
    response = post_change(teacher, cast.emma, parent_email_2="ouder@@example")
    found = errors(response)
    assert "parent_email_1" not in found
    assert found.get("parent_email_2") == ["Voer een geldig e-mailadres in."]


# --- PIN -----------------------------------------------------------------------------------


def test_it_stores_a_new_pin_only_as_a_hash(teacher, cast):
    response = post_change(teacher, cast.emma, new_pin="1357")
    assert saved(response)
    emma = fresh(cast.emma)
    assert emma.check_pin("1357")
    assert not emma.check_pin("2468")
    assert "1357" not in emma.pin_hash
    page = teacher.get(response["Location"]).content.decode()
    assert "De nieuwe pincode van Emma is opgeslagen." in page
    assert "1357" not in page


def test_it_refuses_a_pin_that_is_not_four_digits(teacher, cast):
    response = post_change(teacher, cast.emma, new_pin="12a4", first_name="Emmy")
    assert errors(response)["new_pin"] == ["Een pincode is precies vier cijfers."]
    emma = fresh(cast.emma)
    assert emma.check_pin("2468")
    assert emma.first_name == "Emma"


def test_it_never_shows_the_pin_or_its_hash(teacher, cast):
    emma = fresh(cast.emma)
    page = teacher.get(change_url(emma)).content.decode()
    assert emma.pin_hash not in page
    assert emma.pin_hash.split("$")[-1] not in page
    assert "2468" not in page
    assert "pincode ingesteld" in page
    form = teacher.get(change_url(emma)).context["adminform"].form
    assert "pin_hash" not in form.fields
    assert not form["new_pin"].value()


def test_it_makes_new_pins_shown_once_and_never_cached(teacher, cast):
    response = run_action(teacher, "make_new_pins", [cast.emma, cast.daan])
    assert response.status_code == 200
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert "no-store" in directives
    page = response.content.decode()
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td>[^<]*</td><td><strong class=\"new-pin\">([^<]*)</strong>", page
    )
    # One row per pupil, each with its own four-digit PIN.
    assert sorted(name for name, _pin in rows) == ["Daan Visser", "Emma Visser"]
    pins = dict(rows)
    assert all(re.fullmatch(r"[0-9]{4}", pin) for pin in pins.values())
    assert len(re.findall(r'class="new-pin"', page)) == 2
    emma, daan = fresh(cast.emma), fresh(cast.daan)
    assert emma.check_pin(pins["Emma Visser"])
    assert daan.check_pin(pins["Daan Visser"])
    if pins["Emma Visser"] != "2468":
        assert not emma.check_pin("2468")
    assert emma.pin_hash not in page


def test_it_makes_no_new_pins_for_pupils_outside_the_scope_or_who_left(teacher, cast):
    Pupil.objects.filter(pk=cast.daan.pk).update(left_on=timezone.localdate())
    lotte_hash, yara_hash = fresh(cast.lotte).pin_hash, fresh(cast.yara).pin_hash
    response = run_action(teacher, "make_new_pins", [cast.daan, cast.lotte, cast.yara])
    page = response.content.decode()
    assert "new-pin" not in page
    assert "Lotte" not in page
    assert "Yara" not in page
    assert not fresh(cast.daan).has_pin
    assert (fresh(cast.lotte).pin_hash, fresh(cast.yara).pin_hash) == (lotte_hash, yara_hash)


# --- picture password ----------------------------------------------------------------------


def test_it_sets_a_picture_password(teacher, cast):
    assert saved(post_change(teacher, cast.daan, picture_1="boom", picture_2="vis"))
    daan = fresh(cast.daan)
    assert daan.check_picture_password(["boom", "vis"])
    assert not daan.check_picture_password(["kat", "zon"])
    assert daan.login_method == LoginMethod.PICTURES


def test_it_refuses_too_few_pictures_for_the_school(teacher, cast):
    response = post_change(teacher, cast.daan, picture_1="boom")
    assert errors(response)["picture_1"] == [
        "Kies precies 2 plaatjes, van links naar rechts, of laat ze allemaal leeg."
    ]
    assert fresh(cast.daan).check_picture_password(["kat", "zon"])


@pytest.mark.parametrize(
    "pictures",
    [
        {"picture_2": "boom", "picture_3": "vis"},
        {"picture_1": "boom", "picture_2": "vis", "picture_3": "zon"},
        {"picture_1": "boom", "picture_3": "vis"},
    ],
)
def test_it_refuses_pictures_in_the_wrong_places(teacher, cast, pictures):
    response = post_change(teacher, cast.daan, **pictures)
    assert "picture_1" in errors(response)
    assert fresh(cast.daan).check_picture_password(["kat", "zon"])


def test_it_refuses_logging_in_with_pictures_without_a_picture_password(teacher, cast):
    response = post_change(teacher, cast.emma, login_method=LoginMethod.PICTURES)
    assert errors(response)["picture_1"] == [
        "Kies voor inloggen met plaatjes ook een plaatjeswachtwoord."
    ]
    emma = fresh(cast.emma)
    assert emma.login_method == LoginMethod.PIN
    assert not emma.has_picture_password


def test_it_switches_to_pictures_when_pictures_are_chosen(teacher, cast):
    response = post_change(
        teacher, cast.emma, login_method=LoginMethod.PICTURES, picture_1="bal", picture_2="ster"
    )
    assert saved(response)
    emma = fresh(cast.emma)
    assert emma.login_method == LoginMethod.PICTURES
    assert emma.check_picture_password(["bal", "ster"])
    assert emma.check_pin("2468")


# --- photo ---------------------------------------------------------------------------------


def test_it_stores_an_uploaded_photo_as_a_square_jpeg_with_a_random_name(teacher, cast):
    upload = SimpleUploadedFile("vakantie-emma.png", png(), content_type="image/png")
    assert saved(post_change(teacher, cast.emma, avatar=upload))
    emma = fresh(cast.emma)
    assert re.fullmatch(r"avatars/[0-9a-f]{32}\.jpg", emma.avatar.name)
    with emma.avatar.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "JPEG"
        assert image.size == (320, 320)
    # The rest of the pupil is untouched.
    assert emma.check_pin("2468")
    assert parent_emails(emma) == [(1, "ouder.a@example.com")]


def test_it_refuses_a_text_file_posing_as_a_photo(teacher, cast):
    upload = SimpleUploadedFile("photo.jpg", b"Dit is geen foto.\n" * 20, "image/jpeg")
    response = post_change(teacher, cast.emma, avatar=upload, first_name="Emmy")
    assert errors(response)["avatar"] == [
        "Dit bestand is geen foto die we kunnen lezen. Kies een JPG-, PNG- of WebP-bestand."
    ]
    emma = fresh(cast.emma)
    assert not emma.avatar
    assert emma.first_name == "Emma"


def test_it_serves_the_pupil_picture_only_within_the_scope(client, teacher, cast):
    response = teacher.get(reverse("pupil-picture", args=[cast.emma.code]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert 'aria-label="Emma"' in response.content.decode()

    assert teacher.get(reverse("pupil-picture", args=[cast.yara.code])).status_code == 404
    assert teacher.get(reverse("pupil-picture", args=[cast.lotte.code])).status_code == 404
    client.logout()
    assert client.get(reverse("pupil-picture", args=[cast.emma.code])).status_code == 404


def test_it_serves_the_uploaded_photo_as_jpeg(teacher, cast):
    upload = SimpleUploadedFile("emma.png", png(), content_type="image/png")
    assert saved(post_change(teacher, cast.emma, avatar=upload))
    response = teacher.get(reverse("pupil-picture", args=[cast.emma.code]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xff\xd8")
    with Image.open(io.BytesIO(body)) as image:
        assert image.size == (320, 320)


# --- locks ---------------------------------------------------------------------------------


def lock(pupil: Pupil) -> None:
    Pupil.objects.filter(pk=pupil.pk).update(failed_attempts=10, locked_at=timezone.now())


def test_it_lists_only_locked_pupils_under_the_locked_filter(teacher, cast):
    lock(cast.emma)
    response = teacher.get(CHANGELIST, {"status": "locked"})
    assert [pupil.first_name for pupil in response.context["cl"].result_list] == ["Emma"]
    page = response.content.decode()
    assert "Emma Visser" in page
    assert "Daan Visser" not in page
    assert "geblokkeerd" in page


def test_it_unlocks_a_locked_pupil(teacher, cast):
    lock(cast.emma)
    lock(cast.yara)
    assert "geblokkeerd sinds" in teacher.get(change_url(cast.emma)).content.decode()
    response = run_action(teacher, "unlock", [cast.emma, cast.daan, cast.yara])
    assert response.status_code == 302
    emma = fresh(cast.emma)
    assert (emma.failed_attempts, emma.locked_at) == (0, None)
    assert not emma.is_locked
    # Yara is not teacher X's pupil: her lock stays.
    assert fresh(cast.yara).is_locked
    page = teacher.get(response["Location"]).content.decode()
    assert "De blokkade van 1 leerling is opgeheven." in page


# --- adding pupils -------------------------------------------------------------------------


def new_pupil_data(cast) -> dict:
    return {
        "first_name": "Noah",
        "infix": "de",
        "last_name": "Jong",
        "group": cast.group_x7.pk,
        "login_method": LoginMethod.PIN,
        "new_pin": "1357",
        "parent_email_1": "Ouder.Noah@Example.com",
    }


def test_it_lets_the_ict_coordinator_add_a_pupil(client, cast):
    client.force_login(cast.ict_x)
    assert client.get(ADD).status_code == 200
    response = client.post(ADD, new_pupil_data(cast))
    assert saved(response)
    noah = Pupil.objects.get(first_name="Noah")
    assert noah.full_name == "Noah de Jong"
    assert (noah.group, noah.school) == (cast.group_x7, cast.school_x)
    assert noah.check_pin("1357")
    assert parent_emails(noah) == [(1, "ouder.noah@example.com")]


def test_it_does_not_let_a_teacher_add_a_pupil(teacher, cast):
    assert teacher.get(ADD).status_code == 403
    assert teacher.post(ADD, {**new_pupil_data(cast), "group": cast.group_x5.pk}).status_code == 403
    assert not Pupil.objects.filter(first_name="Noah").exists()
    assert not User.objects.filter(email="ouder.noah@example.com").exists()
