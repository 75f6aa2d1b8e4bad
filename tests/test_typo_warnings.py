"""Typo help in the pupil form: a likely mistake stops the save once, with a suggestion.

Teacher X on Emma (parent A on slot 1) unless stated. accounts/typos.py has the rules;
these tests follow the form a teacher sees.
"""

from __future__ import annotations

import pytest

from accounts.models import ParentLink, User
from tests.helpers import change_url, errors, form_data, fresh, html, post_change, queued_to, saved

pytestmark = pytest.mark.django_db

CONFIRM_LABEL = "Toch opslaan zoals ingevuld"


def linked(pupil) -> list[str]:
    return list(
        ParentLink.objects.filter(pupil=pupil)
        .order_by("slot")
        .values_list("user__email", flat=True)
    )


def confirm_box_shown(response) -> bool:
    page = html(response)
    return CONFIRM_LABEL in page and 'type="checkbox" name="confirm_addresses"' in page


def test_it_asks_about_a_misspelt_provider_before_saving(teacher, cast):
    response = post_change(teacher, cast.emma, parent_email_2="ouder@gmial.com")
    assert not saved(response)
    (message,) = errors(response)["parent_email_2"]
    assert "Bedoelt u ouder@gmail.com?" in message
    assert "Bedoelt u ouder@gmail.com?" in html(response)
    assert confirm_box_shown(response)
    assert linked(cast.emma) == [cast.parent_a.email]
    assert not User.objects.filter(email="ouder@gmial.com").exists()
    assert queued_to("ouder@gmial.com") == []


def test_it_saves_a_warned_address_as_typed_when_the_teacher_confirms(teacher, cast):
    warned = post_change(teacher, cast.emma, parent_email_2="ouder@gmial.com")
    assert not saved(warned)

    # The teacher ticks the box on the form shown again and saves once more.
    data = form_data(warned) | {"confirm_addresses": "on"}
    assert saved(teacher.post(warned.request["PATH_INFO"], data))
    assert linked(cast.emma) == [cast.parent_a.email, "ouder@gmial.com"]
    assert len(queued_to("ouder@gmial.com")) == 1


def test_it_saves_nothing_else_while_an_address_is_in_doubt(teacher, cast):
    response = post_change(
        teacher, cast.emma, first_name="Emmy", parent_email_2="ouder@hotmial.com"
    )
    assert not saved(response)
    assert "Bedoelt u ouder@hotmail.com?" in errors(response)["parent_email_2"][0]
    assert fresh(cast.emma).first_name == "Emma"


def test_it_refuses_two_at_signs_with_a_suggestion(teacher, cast):
    response = post_change(teacher, cast.emma, parent_email_2="ouder@@gmail.com")
    assert errors(response)["parent_email_2"] == [
        "Dit is geen geldig e-mailadres. Bedoelt u ouder@gmail.com?"
    ]
    # Not a warning but a refusal: ticking the box does not save it.
    response = post_change(
        teacher, cast.emma, parent_email_2="ouder@@gmail.com", confirm_addresses="on"
    )
    assert not saved(response)
    assert linked(cast.emma) == [cast.parent_a.email]


def test_it_refuses_an_address_with_a_space_inside_with_a_suggestion(teacher, cast):
    response = post_change(teacher, cast.emma, parent_email_2="ouder @gmail.com")
    assert errors(response)["parent_email_2"] == [
        "Dit is geen geldig e-mailadres. Bedoelt u ouder@gmail.com?"
    ]


def test_it_warns_about_an_address_at_the_schools_own_domain(teacher, cast):
    # School X's staff use @regenboog.nl: a parent address there is most likely a mix-up.
    response = post_change(teacher, cast.emma, parent_email_2="meester.piet@regenboog.nl")
    assert not saved(response)
    (message,) = errors(response)["parent_email_2"]
    assert "adres van de school zelf" in message
    assert confirm_box_shown(response)


def test_it_does_not_take_another_schools_domain_for_this_schools(teacher, cast):
    assert saved(post_change(teacher, cast.emma, parent_email_2="ouder@zonnewijzer.nl"))


def test_it_warns_about_a_cut_off_top_level_domain(teacher, cast):
    response = post_change(teacher, cast.emma, parent_email_2="ouder@ziggo.n")
    assert "Bedoelt u ouder@ziggo.nl?" in errors(response)["parent_email_2"][0]


def test_it_does_not_warn_again_about_an_address_that_is_already_linked(teacher, cast):
    warned = post_change(teacher, cast.emma, parent_email_2="ouder@gmial.com")
    data = form_data(warned) | {"confirm_addresses": "on"}
    assert saved(teacher.post(warned.request["PATH_INFO"], data))

    # Later the teacher changes something else; the address stays as it is.
    response = post_change(teacher, cast.emma, first_name="Emmy")
    assert saved(response)
    assert fresh(cast.emma).first_name == "Emmy"
    assert linked(cast.emma) == [cast.parent_a.email, "ouder@gmial.com"]
    assert len(queued_to("ouder@gmial.com")) == 1


def test_it_does_not_show_the_confirm_box_without_a_warning(teacher, cast):
    page = teacher.get(change_url(cast.emma))
    assert 'type="checkbox" name="confirm_addresses"' not in html(page)
    response = post_change(teacher, cast.emma, first_name="", parent_email_2="nieuw@example.com")
    assert not saved(response)
    assert 'type="checkbox" name="confirm_addresses"' not in html(response)
