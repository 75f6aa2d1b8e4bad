"""What a teacher does on a pupil in the admin (teacher X on Emma and Daan unless stated)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import ParentLink, User
from schools.admin.pupils import MAX_NEW_PINS
from schools.models import LoginMethod, Pupil
from tests.helpers import PUPIL_CHANGELIST as CHANGELIST
from tests.helpers import (
    change_url,
    errors,
    form_data,
    fresh,
    post_change,
    run_action,
    saved,
)

pytestmark = pytest.mark.django_db

ADD = reverse("admin:schools_pupil_add")


# --- helpers -------------------------------------------------------------------------------


def parent_emails(pupil: Pupil) -> list[tuple[int, str]]:
    return list(
        ParentLink.objects.filter(pupil=pupil).order_by("slot").values_list("slot", "user__email")
    )


def shown_pins(page: str) -> dict[str, str]:
    """The new PINs on a one-time PIN page, by the pupil's full name."""
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td>[^<]*</td><td><strong class=\"new-pin\">([^<]*)</strong>", page
    )
    assert len(rows) == len(re.findall(r'class="new-pin"', page))
    pins = dict(rows)
    assert len(pins) == len(rows), "a pupil is listed twice"
    return pins


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
    response = post_change(teacher, cast.daan, home_login_enabled="on", first_name="Daniël")
    assert not saved(response)
    assert "Deze leerling is vertrokken: thuis inloggen kan niet aangezet worden." in (
        response.content.decode()
    )
    daan = fresh(cast.daan)
    assert not daan.home_login_enabled
    assert daan.first_name == "Daan"


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
    assert "Dit is geen geldig e-mailadres." in response.content.decode()
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
    assert found.get("parent_email_2") == ["Dit is geen geldig e-mailadres."]


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
    # One row per pupil, each with its own four-digit PIN.
    pins = shown_pins(page)
    assert sorted(pins) == ["Daan Visser", "Emma Visser"]
    assert all(re.fullmatch(r"[0-9]{4}", pin) for pin in pins.values())
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


NEW_PIN_BUTTON = "Maak een nieuwe pincode en laat hem één keer zien"


def new_pin_url(pupil: Pupil) -> str:
    return reverse("admin:schools_pupil_new_pin", args=[pupil.pk])


def pin_hashes() -> dict:
    return dict(Pupil.objects.values_list("pk", "pin_hash"))


def test_it_offers_a_new_pin_button_on_the_change_page(teacher, cast):
    page = teacher.get(change_url(cast.emma)).content.decode()
    assert NEW_PIN_BUTTON in page
    assert f'formaction="{new_pin_url(cast.emma)}"' in page


def test_it_makes_a_new_pin_for_one_pupil_with_the_button(teacher, cast):
    before = pin_hashes()
    # The button submits the whole change form; only the PIN may change.
    data = form_data(teacher.get(change_url(cast.emma)))
    response = teacher.post(new_pin_url(cast.emma), {**data, "first_name": "Emmy"})
    assert response.status_code == 200
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert "no-store" in directives
    pins = shown_pins(response.content.decode())
    assert list(pins) == ["Emma Visser"]
    emma = fresh(cast.emma)
    assert emma.check_pin(pins["Emma Visser"])
    assert emma.pin_hash != before[emma.pk]
    assert emma.first_name == "Emma"
    assert {pk: h for pk, h in pin_hashes().items() if pk != emma.pk} == {
        pk: h for pk, h in before.items() if pk != emma.pk
    }


def test_it_answers_404_for_the_new_pin_button_of_a_pupil_outside_the_scope(teacher, cast):
    before = pin_hashes()
    for pupil in (cast.yara, cast.lotte):
        response = teacher.post(new_pin_url(pupil))
        assert response.status_code == 404
        assert "new-pin" not in response.content.decode()
    assert pin_hashes() == before


def test_it_makes_no_new_pin_for_a_get_or_an_outsider(client, teacher, cast):
    before = pin_hashes()
    response = teacher.get(new_pin_url(cast.emma))
    assert response.status_code == 405
    assert "new-pin" not in response.content.decode()
    client.force_login(cast.parent_a)
    response = client.post(new_pin_url(cast.emma))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert pin_hashes() == before


def class_of(cast, size: int) -> list[Pupil]:
    return Pupil.objects.bulk_create(
        Pupil(
            school=cast.school_x,
            group=cast.group_x7,
            first_name=f"Kind {number:02d}",
            last_name="Klas",
            pin_hash=f"md5$oud${number}",
        )
        for number in range(size)
    )


def test_it_refuses_more_new_pins_at_once_than_the_maximum(client, cast):
    pupils = class_of(cast, MAX_NEW_PINS + 1)
    before = pin_hashes()
    client.force_login(cast.ict_x)
    response = run_action(client, "make_new_pins", pupils)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert f"Kies hoogstens {MAX_NEW_PINS} leerlingen tegelijk, bijvoorbeeld één groep." in page
    assert "new-pin" not in page
    assert pin_hashes() == before


def test_it_makes_new_pins_for_the_maximum_at_once(client, cast):
    pupils = class_of(cast, MAX_NEW_PINS)
    client.force_login(cast.ict_x)
    response = run_action(client, "make_new_pins", pupils)
    assert response.status_code == 200
    pins = shown_pins(response.content.decode())
    assert len(pins) == MAX_NEW_PINS
    for pupil in Pupil.objects.filter(pk__in=[pupil.pk for pupil in pupils]):
        assert pupil.check_pin(pins[pupil.full_name])


# --- without home login ----------------------------------------------------------------------


@pytest.fixture
def ict(client, cast):
    client.force_login(cast.ict_x)
    return client


def test_it_saves_a_pupil_without_a_pin_while_home_login_is_off(ict, cast):
    lotte = fresh(cast.lotte)
    assert not lotte.has_pin
    assert not lotte.home_login_enabled
    assert saved(post_change(ict, cast.lotte, first_name="Lotta"))
    lotte = fresh(cast.lotte)
    assert lotte.first_name == "Lotta"
    assert not lotte.has_pin
    assert not lotte.home_login_enabled


def test_it_refuses_home_login_for_a_pupil_without_a_pin(ict, cast):
    response = post_change(ict, cast.lotte, home_login_enabled="on", first_name="Lotta")
    assert errors(response)["new_pin"] == [
        "Voor thuis inloggen met een pincode heeft het kind een pincode nodig: vul er "
        "een in, of bewaar eerst en maak er dan een met de knop hieronder."
    ]
    lotte = fresh(cast.lotte)
    assert (lotte.first_name, lotte.home_login_enabled) == ("Lotte", False)
    # With a PIN it can be switched on.
    assert saved(post_change(ict, cast.lotte, home_login_enabled="on", new_pin="1357"))
    lotte = fresh(cast.lotte)
    assert lotte.home_login_enabled
    assert lotte.check_pin("1357")


# --- administration keys -------------------------------------------------------------------


def test_it_shows_the_administration_keys_read_only_to_a_teacher(teacher, cast):
    Pupil.objects.filter(pk=cast.emma.pk).update(external_key="LL-001", eck_id="eck-001")
    page = teacher.get(change_url(cast.emma))
    form = page.context["adminform"].form
    assert "external_key" not in form.fields
    assert "eck_id" not in form.fields
    assert "LL-001" in page.content.decode()
    response = teacher.post(
        change_url(cast.emma),
        {**form_data(page), "external_key": "LL-999", "eck_id": "eck-999", "first_name": "Emmy"},
    )
    assert saved(response)
    emma = fresh(cast.emma)
    assert (emma.first_name, emma.external_key, emma.eck_id) == ("Emmy", "LL-001", "eck-001")


@pytest.mark.parametrize("who", ["ict_x", "admin_x", "superuser"])
def test_it_lets_managers_change_the_administration_keys(client, cast, who):
    client.force_login(getattr(cast, who))
    assert saved(post_change(client, cast.emma, external_key="LL-002", eck_id="eck-002"))
    emma = fresh(cast.emma)
    assert (emma.external_key, emma.eck_id) == ("LL-002", "eck-002")


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
        "Voor thuis inloggen met plaatjes heeft het kind een plaatjeswachtwoord nodig."
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


def test_it_offers_no_new_pin_button_before_the_pupil_exists(client, cast):
    client.force_login(cast.ict_x)
    page = client.get(ADD)
    assert page.status_code == 200
    assert 'name="first_name"' in page.content.decode()
    assert NEW_PIN_BUTTON not in page.content.decode()
    assert "nieuwe-pincode" not in page.content.decode()
