"""Regression tests for the fixes after the security review.

Each section names the fix; the cast (tests/conftest.py) is used throughout: Emma (group 5,
home login on, parent A) and Daan (group 2, home login off, parent A) at school X, where
teacher X teaches groups 5 and 2 and the ICT coordinator manages the whole school.
"""

from __future__ import annotations

import io
import re
import runpy
import signal
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.management.commands import changepassword
from django.core import mail
from django.core.management import call_command
from django.db import DatabaseError, OperationalError
from django.test import Client
from django.urls import reverse
from gunicorn.config import Config
from gunicorn.glogging import SafeAtoms
from post_office.models import STATUS, Email

from accounts import invitations
from accounts.forms import ParentLoginForm
from accounts.management.commands import mail_worker
from accounts.models import LoginThrottle, ParentLink, PasswordLink, PasswordRequest, User
from basispoort.lib.gunicorn import MaskingLogger, mask
from schools.models import School
from tests.conftest import PASSWORD
from tests.helpers import (
    LOCMEM_MAILERS,
    SET_PASSWORD_LINK,
    change_url,
    choose_password,
    errors,
    form_data,
    form_errors,
    fresh,
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
START = datetime(2025, 3, 10, 19, 0, tzinfo=AMSTERDAM)
ADMIN_LOGIN = reverse("admin:login")
GENERIC = str(ParentLoginForm.error_messages["invalid_login"])
THROTTLED = "Te veel pogingen met dit e-mailadres. Wacht 30 seconden"


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reset_link(address: str) -> str:
    """A "forgot password" link for ``address``, as delivered (not as the outbox keeps it)."""
    before = len(sent_to(address))
    assert Client().post("/wachtwoord-vergeten/", {"email": address}).status_code == 200
    run_mail_worker()
    (message,) = [
        message
        for message in sent_to(address)[before:]
        if message.subject == "Uw link om een nieuw wachtwoord te kiezen"
    ]
    return link_in(message.body)


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


def html_part(message) -> str:
    """The HTML alternative of a delivered message."""
    (alternative,) = message.alternatives
    assert alternative.mimetype == "text/html"
    return alternative.content


# --- a blank password does not clear the login throttle ------------------------------------


def try_home(address: str, password: str):
    return log_in(Client(), address, password)


def try_admin(address: str, password: str):
    return Client().post(
        ADMIN_LOGIN, {"username": address, "password": password, "next": "/beheer/"}
    )


@pytest.mark.parametrize("door", [try_home, try_admin], ids=["home", "admin"])
def test_a_blank_password_does_not_clear_the_count(cast, frozen, door):
    address = cast.teacher_x.email  # may use either door
    for _ in range(4):
        assert door(address, "helemaal-fout").status_code == 200
    blank = door(address, "")
    assert blank.status_code == 200
    assert "_auth_user_id" not in blank.wsgi_request.session
    assert LoginThrottle.objects.get(key=address).failures == 4  # neither cleared nor counted

    assert door(address, "helemaal-fout").status_code == 200
    # That made five: even the right password now waits.
    response = door(address, PASSWORD)
    assert response.status_code == 200
    assert THROTTLED in html(response)
    assert "_auth_user_id" not in response.wsgi_request.session

    frozen.shift(timedelta(seconds=30))
    assert door(address, PASSWORD).status_code == 302
    assert not LoginThrottle.objects.exists()  # only a correct password clears it


def test_a_blank_password_at_one_door_does_not_clear_the_count_of_the_other(cast, frozen):
    address = cast.teacher_x.email
    for _ in range(4):
        try_home(address, "helemaal-fout")
    try_admin(address, "")
    try_home(address, "")
    try_admin(address, "helemaal-fout")
    assert THROTTLED in html(try_home(address, PASSWORD))


# --- an address that grows when lower-cased ------------------------------------------------

#: "İ" lower-cases to two characters ("i" and a combining dot).
GROWING = [
    "İ" * 130 + "@example.com",  # 142 characters typed, 272 after lower-casing
    "İ" * 120 + "x" * 118 + "@example.com",  # 250 typed (fits the form), 370 lower-cased
]


def throttle_keys_fit() -> bool:
    return all(len(key) <= 254 for key in LoginThrottle.objects.values_list("key", flat=True))


@pytest.mark.parametrize("address", GROWING, ids=["142", "250"])
def test_it_answers_the_home_login_with_a_growing_address_without_an_error(cast, frozen, address):
    assert len(address) <= 254 < len(address.lower())
    for _ in range(5):
        response = log_in(Client(), address, "helemaal-fout")
        assert response.status_code == 200
        assert form_errors(response) == [GENERIC]
    # The throttle's key fits its column (SQLite would not complain, PostgreSQL would).
    (key,) = LoginThrottle.objects.values_list("key", flat=True)
    assert len(key) == 254
    assert throttle_keys_fit()
    # ...and it still counts: the sixth try waits.
    assert THROTTLED in html(log_in(Client(), address, PASSWORD))


@pytest.mark.parametrize("address", GROWING, ids=["142", "250"])
def test_it_answers_the_admin_login_with_a_growing_address_without_an_error(cast, frozen, address):
    response = try_admin(address, "helemaal-fout")
    assert response.status_code == 200
    assert "Vul het juiste e-mailadres en wachtwoord van een schoolaccount in" in html(response)
    assert throttle_keys_fit()


@pytest.mark.parametrize("url", ["/wachtwoord-vergeten/", "/beheer/wachtwoord-vergeten/"])
@pytest.mark.parametrize("address", GROWING, ids=["142", "250"])
def test_it_refuses_a_growing_address_for_a_new_password_with_a_form_error(db, url, address):
    response = Client().post(url, {"email": address})
    assert response.status_code == 200
    assert "accounts/forgot.html" in [template.name for template in response.templates]
    assert response.context["form"].errors["email"] == ["Dit e-mailadres is te lang."]
    assert "Dit e-mailadres is te lang." in html(response)
    assert not PasswordRequest.objects.exists()


def test_it_still_takes_a_long_address_that_fits(db):
    address = "a" * 242 + "@example.com"  # 254: the longest address there is
    response = Client().post("/wachtwoord-vergeten/", {"email": address.upper()})
    assert response.status_code == 200
    assert "accounts/forgot_sent.html" in [template.name for template in response.templates]
    assert PasswordRequest.objects.get().email == address


#: Valid before and after lower-casing, 191 characters typed but 311 lower-cased.
GROWING_VALID = "a" * 64 + "@" + ".".join(["İ" * 30] * 4) + ".nl"


def test_it_refuses_a_parent_address_that_grows_too_long_when_lower_cased(teacher, cast):
    assert len(GROWING_VALID) <= 254 < len(GROWING_VALID.lower()) <= 320
    response = post_change(teacher, cast.emma, parent_email_2=GROWING_VALID, confirm_addresses="on")
    assert not saved(response)
    assert errors(response)["parent_email_2"]
    assert all(len(email) <= 254 for email in User.objects.values_list("email", flat=True))


def test_it_refuses_a_staff_address_that_grows_too_long_when_lower_cased(cast):
    ict = as_user(cast.ict_x)
    response = ict.post(
        reverse("admin:schools_staffmembership_add"),
        {"email": GROWING_VALID, "school": cast.school_x.pk, "role": "teacher"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"]
    assert all(len(email) <= 254 for email in User.objects.values_list("email", flat=True))


# --- any password change spends the outstanding links ---------------------------------------


def test_changing_the_password_in_the_admin_spends_outstanding_links(cast):
    link = reset_link(cast.teacher_x.email)
    assert link_works(link)

    teacher = as_user(cast.teacher_x)
    response = teacher.post(
        reverse("admin:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": GOOD_PASSWORD,
            "new_password2": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:password_change_done")
    assert fresh(cast.teacher_x).check_password(GOOD_PASSWORD)

    page = open_link(link)
    assert says_link_is_dead(page)
    assert "Deze link werkt niet meer" in html(page)
    # Nor can the link set another password.
    assert says_link_is_dead(choose_password(Client(), link, "iets-heel-anders-77"))
    assert fresh(cast.teacher_x).check_password(GOOD_PASSWORD)
    assert not PasswordLink.objects.usable().filter(user=cast.teacher_x).exists()


def test_setting_a_password_in_code_spends_the_invitation(teacher, cast):
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    invitation = link_in(only_message_to(NEW).message)
    reset = reset_link(NEW)
    assert link_works(invitation)
    assert link_works(reset)

    parent = User.objects.get(email=NEW)
    parent.set_password(GOOD_PASSWORD)
    parent.save()

    assert says_link_is_dead(open_link(invitation))
    assert says_link_is_dead(open_link(reset))
    assert says_link_is_dead(choose_password(Client(), invitation, "iets-heel-anders-77"))
    assert User.objects.get(email=NEW).check_password(GOOD_PASSWORD)


def test_the_changepassword_command_spends_outstanding_links(cast, monkeypatch):
    link = reset_link(cast.parent_a.email)
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": GOOD_PASSWORD)
    call_command("changepassword", cast.parent_a.email, stdout=io.StringIO())

    assert fresh(cast.parent_a).check_password(GOOD_PASSWORD)
    assert says_link_is_dead(open_link(link))


def test_saving_an_account_without_a_new_password_keeps_its_links(cast):
    link = reset_link(cast.parent_a.email)
    parent = fresh(cast.parent_a)
    parent.name = "Ouder A"
    parent.save()
    # A login writes last_login through save() as well.
    assert log_in(Client(), cast.parent_a.email, PASSWORD).status_code == 302
    assert link_works(link)


# --- the outbox forgets delivered links; the access log masks them --------------------------


def test_it_keeps_no_usable_link_in_the_outbox_after_delivery(teacher, cast, site_url):
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    queued = only_message_to(NEW)
    # Until it is delivered, the outbox must hold the link: it is what gets sent.
    link = link_in(queued.message)
    assert link_in(queued.html_message) == link
    token = token_of(link)

    run_mail_worker()

    row = fresh(queued)
    assert row.status == STATUS.sent
    for body in (row.message, row.html_message):
        assert token not in body
        assert not SET_PASSWORD_LINK.search(body)
        assert f"{site_url}/wachtwoord/…/" in body
        assert "Emma" in body  # the rest of the message is kept
    # The parent got the whole link, in both parts, and it works.
    (delivered,) = sent_to(NEW)
    assert link_in(delivered.body) == link
    assert link in html_part(delivered)
    assert link_works(link)
    # Nor does the operator's view of the outbox show it.
    operator = as_user(cast.superuser)
    page = operator.get(reverse("admin:post_office_email_change", args=[row.pk]))
    assert page.status_code == 200
    assert token not in html(page)


def test_it_forgets_a_reset_link_in_the_outbox_once_delivered(cast):
    link = reset_link(cast.parent_a.email)
    row = only_message_to(cast.parent_a.email)
    assert row.status == STATUS.sent
    assert token_of(link) not in row.message
    assert token_of(link) not in row.html_message
    assert "/wachtwoord/…/" in row.message
    assert link_works(link)


def test_it_keeps_the_link_in_the_outbox_until_the_message_goes_out(
    teacher, cast, settings, mail_server_down, frozen
):
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    message = only_message_to(NEW)
    link = link_in(message.message)
    run_mail_worker()
    message = fresh(message)
    assert message.status == STATUS.requeued
    assert link_in(message.message) == link  # a retry must send the real link

    settings.MAILERS = LOCMEM_MAILERS
    frozen.shift(timedelta(minutes=1))
    run_mail_worker()
    assert fresh(message).status == STATUS.sent
    assert token_of(link) not in fresh(message).message
    (delivered,) = sent_to(NEW)
    assert link_in(delivered.body) == link


def test_it_leaves_messages_without_a_link_as_they_are(teacher, cast):
    assert saved(post_change(teacher, cast.emma, parent_email_2=cast.parent_b.email))
    notice = only_message_to(cast.parent_b.email)
    run_mail_worker()
    assert fresh(notice).status == STATUS.sent
    assert fresh(notice).message == notice.message
    assert fresh(notice).html_message == notice.html_message


def test_it_masks_the_secret_of_a_set_password_link_for_the_access_log():
    assert mask("GET /wachtwoord/abc-DEF_123/ HTTP/1.1") == "GET /wachtwoord/…/ HTTP/1.1"
    assert mask("https://thuis.example.nl/wachtwoord/abc-DEF_123/?x=1") == (
        "https://thuis.example.nl/wachtwoord/…/?x=1"
    )
    assert mask("/wachtwoord/abc-DEF_123") == "/wachtwoord/…"
    # Other paths are left alone.
    for text in ("GET /wachtwoord-vergeten/ HTTP/1.1", "POST / HTTP/1.1", "/kinderen/"):
        assert mask(text) == text


def access_atoms(path: str, referer: str) -> dict:
    response = SimpleNamespace(
        status="200 OK", sent=512, headers=[("Content-Type", "text/html; charset=utf-8")]
    )
    request = SimpleNamespace(headers=[("REFERER", referer), ("HOST", "thuis.example.nl")])
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.10",
        "HTTP_REFERER": referer,
        "HTTP_USER_AGENT": "Firefox",
    }
    logger = MaskingLogger(Config())
    return logger.atoms(response, request, environ, timedelta(milliseconds=12))


def test_it_masks_the_secret_in_every_access_log_atom():
    secret = "abc-DEF_123"
    atoms = access_atoms(f"/wachtwoord/{secret}/", f"https://thuis.example.nl/wachtwoord/{secret}/")
    assert atoms["r"] == "GET /wachtwoord/…/ HTTP/1.1"
    assert atoms["U"] == "/wachtwoord/…/"
    assert atoms["f"] == "https://thuis.example.nl/wachtwoord/…/"
    assert atoms["{referer}i"] == "https://thuis.example.nl/wachtwoord/…/"
    assert not [key for key, value in atoms.items() if secret in str(value)]
    # The rest of the line stays useful.
    useful = (atoms["h"], atoms["s"], atoms["b"], atoms["a"])
    assert useful == ("192.0.2.10", "200", "512", "Firefox")
    line = Config().access_log_format % SafeAtoms(atoms)
    assert secret not in line
    assert '"GET /wachtwoord/…/ HTTP/1.1" 200 512' in line


def test_it_uses_the_masking_logger_in_the_gunicorn_config(settings):
    config = runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("logger_class", config["logger_class"])
    assert cfg.logger_class is MaskingLogger


def test_it_keeps_the_sites_referrer_policy_on_the_set_password_page(teacher, cast):
    # "no-referrer" would make browsers send "Origin: null" with the form, which Django's
    # CSRF check refuses (403): the secret is masked in the access log instead.
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    page = open_link(link_in(only_message_to(NEW).message))
    assert '<meta name="referrer" content="same-origin">' in html(page)


# --- moving a parent to the other slot keeps what they were told ---------------------------


def parents_of(pupil) -> list[tuple[int, str]]:
    return list(
        ParentLink.objects.filter(pupil=pupil).order_by("slot").values_list("slot", "user__email")
    )


def link_of(pupil, address: str) -> ParentLink:
    return ParentLink.objects.get(pupil=pupil, user__email=address)


@pytest.fixture
def emma_with_two_parents(teacher, cast):
    """Emma: parent A (told before e-mail existed) on slot 1, NEW (invited) on slot 2."""
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    invitation = only_message_to(NEW)
    assert link_of(cast.emma, NEW).message == invitation
    return invitation


def test_swapping_the_two_parents_sends_nothing_and_keeps_their_messages(
    teacher, cast, emma_with_two_parents
):
    invitation = emma_with_two_parents
    link = link_in(invitation.message)
    emails, links = Email.objects.count(), PasswordLink.objects.count()

    response = post_change(
        teacher, cast.emma, parent_email_1=NEW, parent_email_2=cast.parent_a.email
    )
    assert saved(response)
    assert parents_of(cast.emma) == [(1, NEW), (2, cast.parent_a.email)]
    assert Email.objects.count() == emails
    assert PasswordLink.objects.count() == links
    assert link_of(cast.emma, NEW).message == invitation
    assert link_of(cast.emma, cast.parent_a.email).message is None
    assert link_works(link)  # moving is not removing
    # No "an invitation is waiting" message for anyone.
    page = html(teacher.get(response["Location"]))
    assert "uitnodiging klaar" not in page
    assert "korte melding" not in page
    # The status the teacher sees still shows the invitation in the outbox.
    status = parent_status(html(teacher.get(change_url(cast.emma))), NEW)
    assert status[0] == "nog niet verstuurd (in de wachtrij)"


def test_clearing_the_first_address_moves_the_second_up_without_a_new_message(
    teacher, cast, emma_with_two_parents
):
    invitation = emma_with_two_parents
    link = link_in(invitation.message)
    emails = Email.objects.count()

    assert saved(post_change(teacher, cast.emma, parent_email_1=""))
    assert parents_of(cast.emma) == [(1, NEW)]
    assert Email.objects.count() == emails
    assert link_of(cast.emma, NEW).message == invitation
    assert link_works(link)
    # Parent A is still Daan's parent, and keeps Emma's brother.
    assert parents_of(cast.daan) == [(1, cast.parent_a.email)]


def test_a_parent_added_next_to_a_moved_one_is_the_only_one_told(
    teacher, cast, emma_with_two_parents
):
    # Parent A moves to slot 2 and parent B takes slot 1: only B hears about Emma.
    emails = Email.objects.count()
    assert saved(
        post_change(
            teacher,
            cast.emma,
            parent_email_1=cast.parent_b.email,
            parent_email_2=cast.parent_a.email,
        )
    )
    assert parents_of(cast.emma) == [(1, cast.parent_b.email), (2, cast.parent_a.email)]
    notice = only_message_to(cast.parent_b.email)
    assert notice.subject == "Emma is toegevoegd aan uw Thuisportaal"
    assert queued_to(cast.parent_a.email) == []
    assert Email.objects.count() == emails + 1  # NEW was removed: nothing for them either


def test_removing_a_never_used_address_stops_its_invitation(teacher, cast, emma_with_two_parents):
    link = link_in(emma_with_two_parents.message)
    assert link_works(link)

    assert saved(post_change(teacher, cast.emma, parent_email_2=""))
    assert parents_of(cast.emma) == [(1, cast.parent_a.email)]
    page = open_link(link)
    assert says_link_is_dead(page)
    assert "Deze link werkt niet meer" in html(page)
    assert says_link_is_dead(choose_password(Client(), link, GOOD_PASSWORD))
    assert not User.objects.get(email=NEW).has_usable_password()


def test_correcting_an_address_stops_the_invitation_to_the_wrong_one(
    teacher, cast, emma_with_two_parents
):
    wrong = link_in(emma_with_two_parents.message)
    assert saved(post_change(teacher, cast.emma, parent_email_2="nieuw@example.nl"))
    assert says_link_is_dead(open_link(wrong))
    right = link_in(only_message_to("nieuw@example.nl").message)
    assert link_works(right)


def test_removing_an_address_keeps_the_invitation_while_another_child_needs_it(
    teacher, cast, emma_with_two_parents
):
    link = link_in(emma_with_two_parents.message)
    # NEW is Daan's parent as well (home login switched on for him in the same save).
    assert saved(post_change(teacher, cast.daan, parent_email_2=NEW, home_login_enabled="on"))
    assert saved(post_change(teacher, cast.emma, parent_email_2=""))
    assert link_works(link)


def test_removing_a_staff_members_parent_address_keeps_their_links(teacher, cast):
    # (The school's own domain is warned about: the teacher confirms.)
    assert saved(
        post_change(teacher, cast.emma, parent_email_2=cast.teacher_x.email, confirm_addresses="on")
    )
    link = reset_link(cast.teacher_x.email)
    assert saved(post_change(teacher, cast.emma, parent_email_2=""))
    assert link_works(link)  # they still have a reason to log in: the admin


# --- invitations only for pupils who can log in at home now ---------------------------------


@pytest.mark.parametrize(
    "closed, opened",
    [
        ({"home_login_allowed": False}, {"home_login_allowed": "on"}),
        ({"network_environment": "moo"}, {"network_environment": ""}),
    ],
    ids=["home-login-not-allowed", "network-environment"],
)
def test_a_closed_school_queues_nothing_until_the_ict_coordinator_opens_it(
    teacher, cast, closed, opened
):
    School.objects.filter(pk=cast.school_x.pk).update(**closed)

    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    assert ParentLink.objects.filter(pupil=cast.emma, user__email=NEW).exists()
    assert queued_to(NEW) == []
    assert not PasswordLink.objects.filter(user__email=NEW).exists()
    assert link_of(cast.emma, NEW).message is None

    ict = as_user(cast.ict_x)
    data = form_data(ict.get(change_url(cast.school_x)))
    for name, value in opened.items():
        if value:
            data[name] = value
        else:
            data.pop(name, None)
    assert ict.post(change_url(cast.school_x), data).status_code == 302
    assert fresh(cast.school_x).home_login_available

    invitation = only_message_to(NEW)
    assert invitation.subject == "Thuis inloggen voor Emma (De Regenboog): kies uw wachtwoord"
    assert link_of(cast.emma, NEW).message == invitation
    assert link_works(link_in(invitation.message))
    # Parent A was never told about Emma either (linked without any e-mail): a notice, once.
    (notice,) = queued_to(cast.parent_a.email)
    assert notice.subject == "Emma is toegevoegd aan uw Thuisportaal"
    # Nothing about Daan, whose own home login is off.
    assert all("Daan" not in message.subject for message in Email.objects.all())
    # Saving the school again sends nothing more.
    data = form_data(ict.get(change_url(cast.school_x)))
    assert ict.post(change_url(cast.school_x), data | {"name": "De Regenboog"}).status_code == 302
    assert len(queued_to(NEW)) == 1


def test_a_closed_school_does_not_invite_when_a_pupils_home_login_is_switched_on(teacher, cast):
    School.objects.filter(pk=cast.school_x.pk).update(home_login_allowed=False)
    assert saved(post_change(teacher, cast.daan, parent_email_2=NEW, home_login_enabled="on"))
    assert queued_to(NEW) == []
    run_action(teacher, "enable_home_login", [cast.emma, cast.daan])
    assert queued_to(NEW) == []


def test_switching_home_login_on_for_the_school_does_not_invite_for_pupils_without_it(
    teacher, cast
):
    School.objects.filter(pk=cast.school_x.pk).update(home_login_allowed=False)
    assert saved(post_change(teacher, cast.daan, parent_email_2=NEW))  # Daan: home login off
    ict = as_user(cast.ict_x)
    data = form_data(ict.get(change_url(cast.school_x))) | {"home_login_allowed": "on"}
    assert ict.post(change_url(cast.school_x), data).status_code == 302
    assert queued_to(NEW) == []


def test_the_resend_action_sends_nothing_while_the_school_is_closed(teacher, cast):
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    run_mail_worker()
    School.objects.filter(pk=cast.school_x.pk).update(network_environment="moo")
    run_action(teacher, "resend_invitations", [cast.emma])
    assert len(queued_to(NEW)) == 1


# --- "Toch opslaan zoals ingevuld" does not carry over --------------------------------------


def rendered_confirm(response) -> str:
    """The confirm_addresses input as the browser gets it."""
    match = re.search(r'<input[^>]*name="confirm_addresses"[^>]*>', html(response))
    assert match, "no confirm_addresses input on the page"
    return match.group(0)


def as_the_browser_submits(response, **changes) -> dict:
    """The form on ``response`` submitted again, with confirm_addresses as it was rendered."""
    data = form_data(response)
    tag = rendered_confirm(response)
    value = re.search(r'value="([^"]*)"', tag)
    if "checkbox" in tag:
        send = "checked" in tag
        confirm = value.group(1) if value else "on"
    else:
        send, confirm = True, value.group(1) if value else ""
    data.pop("confirm_addresses", None)
    if send:
        data["confirm_addresses"] = confirm
    data.update(changes)
    return data


def test_a_confirmation_does_not_carry_over_to_a_later_typo(cast):
    ict = as_user(cast.ict_x)  # Lotte is in group 7: the ICT coordinator's, not teacher X's
    url = change_url(cast.lotte)
    # A confirmed typo, but Lotte's home login is switched on without a PIN: not saved.
    data = form_data(ict.get(url)) | {
        "parent_email_1": "ouder@gmial.com",
        "confirm_addresses": "on",
        "home_login_enabled": "on",
    }
    response = ict.post(url, data)
    assert not saved(response)
    assert list(errors(response)) == ["new_pin"]
    assert "parent_email_1" not in errors(response)  # confirmed
    # The confirmation is not sent back to the browser, neither ticked nor as a value.
    tag = rendered_confirm(response)
    assert "checked" not in tag
    assert 'value="' not in tag or 'value=""' in tag
    assert not User.objects.filter(email="ouder@gmial.com").exists()

    # The teacher now types another address with another typo and adds the PIN.
    again = ict.post(
        url, as_the_browser_submits(response, parent_email_1="ouder@hotmial.com", new_pin="1357")
    )
    assert not saved(again)
    (message,) = errors(again)["parent_email_1"]
    assert "Bedoelt u ouder@hotmail.com?" in message
    assert 'type="checkbox" name="confirm_addresses"' in html(again)
    assert "checked" not in rendered_confirm(again)
    assert not User.objects.filter(email="ouder@hotmial.com").exists()
    assert queued_to("ouder@hotmial.com") == []

    # Ticking the box now saves it, on purpose.
    done = ict.post(url, as_the_browser_submits(again, confirm_addresses="on"))
    assert saved(done)
    assert parents_of(cast.lotte) == [(1, "ouder@hotmial.com")]


def test_a_confirmation_is_asked_again_after_a_failed_save(teacher, cast):
    url = change_url(cast.emma)
    warned = post_change(teacher, cast.emma, parent_email_2="ouder@gmial.com")
    assert 'type="checkbox" name="confirm_addresses"' in html(warned)
    # Ticked, but the PIN is incomplete: not saved, and the box comes back empty.
    response = teacher.post(
        url, as_the_browser_submits(warned, confirm_addresses="on", new_pin="12")
    )
    assert not saved(response)
    assert list(errors(response)) == ["new_pin"]
    tag = rendered_confirm(response)
    assert "checked" not in tag
    assert 'value="' not in tag
    # With the PIN put right, the same address is asked about once more.
    again = teacher.post(url, as_the_browser_submits(response, new_pin="1357"))
    assert not saved(again)
    assert "Bedoelt u ouder@gmail.com?" in errors(again)["parent_email_2"][0]
    assert fresh(cast.emma).check_pin("2468")
    confirmed = as_the_browser_submits(again, confirm_addresses="on", new_pin="1357")
    assert saved(teacher.post(url, confirmed))
    assert parents_of(cast.emma) == [(1, cast.parent_a.email), (2, "ouder@gmial.com")]
    assert fresh(cast.emma).check_pin("1357")


# --- resending invitations: one per person, not while one is on its way ----------------------


def test_resending_invitations_sends_one_per_person_and_none_while_one_is_queued(teacher, cast):
    cast.daan.home_login_enabled = True
    cast.daan.save()
    for pupil in (cast.emma, cast.daan):
        ParentLink.objects.create(pupil=pupil, user=User.objects.for_email(NEW), slot=2)
    assert queued_to(NEW) == []

    response = run_action(teacher, "resend_invitations", [cast.emma, cast.daan])
    assert response.status_code == 302
    assert "Er staat 1 nieuwe uitnodiging klaar." in html(teacher.get(response["Location"]))
    (invitation,) = queued_to(NEW)
    assert invitation.status == STATUS.queued
    assert PasswordLink.objects.filter(user__email=NEW).count() == 1
    assert queued_to(cast.parent_a.email) == []

    # Again, while that one is still in the outbox: nothing more.
    response = run_action(teacher, "resend_invitations", [cast.emma, cast.daan])
    assert "Er staan 0 nieuwe uitnodigingen klaar." in html(teacher.get(response["Location"]))
    assert queued_to(NEW) == [invitation]
    assert PasswordLink.objects.filter(user__email=NEW).count() == 1

    # Once it has gone out, the teacher may send it again (one, still).
    run_mail_worker()
    run_action(teacher, "resend_invitations", [cast.emma, cast.daan])
    assert len(queued_to(NEW)) == 2


def test_resending_skips_a_person_whose_invitation_is_waiting_for_a_retry(
    teacher, cast, mail_server_down
):
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    run_mail_worker()
    assert only_message_to(NEW).status == STATUS.requeued
    run_action(teacher, "resend_invitations", [cast.emma])
    assert len(queued_to(NEW)) == 1


def test_the_resend_action_writes_nothing_when_it_fails_halfway(teacher, cast, monkeypatch):
    cast.daan.home_login_enabled = True
    cast.daan.save()
    for pupil, address in ((cast.emma, "een@example.com"), (cast.daan, "twee@example.com")):
        ParentLink.objects.create(pupil=pupil, user=User.objects.for_email(address), slot=2)
    real_queue, calls = invitations.queue, []

    def second_fails(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("outbox unavailable")
        return real_queue(*args, **kwargs)

    monkeypatch.setattr(invitations, "queue", second_fails)
    with pytest.raises(RuntimeError):
        run_action(teacher, "resend_invitations", [cast.emma, cast.daan])
    assert len(calls) == 2
    assert not Email.objects.exists()
    assert not PasswordLink.objects.exists()
    assert not ParentLink.objects.filter(message__isnull=False).exists()


def test_the_enable_home_login_action_writes_nothing_when_it_fails_halfway(
    teacher, cast, monkeypatch
):
    assert saved(post_change(teacher, cast.daan, parent_email_2=NEW))  # waits: home login off

    def outbox_broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("accounts.invitations.queue", outbox_broken)
    with pytest.raises(RuntimeError):
        run_action(teacher, "enable_home_login", [cast.daan])
    assert not fresh(cast.daan).home_login_enabled
    assert not PasswordLink.objects.exists()


# --- last_home_login ------------------------------------------------------------------------


def test_it_records_only_a_login_at_home_as_the_last_home_login(teacher, cast, time_machine):
    # Teacher X is Emma's parent as well.
    time_machine.move_to(datetime(2025, 3, 10, 8, 0, tzinfo=AMSTERDAM), tick=False)
    assert saved(
        post_change(teacher, cast.emma, parent_email_2=cast.teacher_x.email, confirm_addresses="on")
    )

    time_machine.move_to(datetime(2025, 3, 10, 8, 5, tzinfo=AMSTERDAM), tick=False)
    response = try_admin(cast.teacher_x.email, PASSWORD)
    assert response.status_code == 302
    teacher_x = fresh(cast.teacher_x)
    assert teacher_x.last_login == datetime(2025, 3, 10, 8, 5, tzinfo=AMSTERDAM)
    assert teacher_x.last_home_login is None
    page = html(teacher.get(change_url(cast.emma)))
    assert parent_status(page, cast.teacher_x.email)[2] == "nog nooit"
    assert "laatst thuis ingelogd" in page

    time_machine.move_to(datetime(2025, 3, 10, 20, 15, tzinfo=AMSTERDAM), tick=False)
    assert log_in(Client(), cast.teacher_x.email, PASSWORD).status_code == 302
    assert fresh(cast.teacher_x).last_home_login == datetime(2025, 3, 10, 20, 15, tzinfo=AMSTERDAM)
    page = html(teacher.get(change_url(cast.emma)))
    assert parent_status(page, cast.teacher_x.email)[2] == "10-03-2025 20:15"

    # A later admin login does not move it.
    time_machine.move_to(datetime(2025, 3, 11, 8, 0, tzinfo=AMSTERDAM), tick=False)
    assert try_admin(cast.teacher_x.email, PASSWORD).status_code == 302
    page = html(teacher.get(change_url(cast.emma)))
    assert parent_status(page, cast.teacher_x.email)[2] == "10-03-2025 20:15"


def test_a_failed_login_at_home_is_not_a_home_login(cast):
    assert log_in(Client(), cast.parent_a.email, "helemaal-fout").status_code == 200
    assert fresh(cast.parent_a).last_home_login is None


# --- the "password changed" e-mail ----------------------------------------------------------


def password_changed_mail(address: str):
    (message,) = [
        message
        for message in queued_to(address)
        if message.subject == "Uw wachtwoord voor Thuisportaal is ingesteld"
    ]
    return message


def test_the_password_changed_mail_gives_staff_the_admin_address(cast, site_url):
    link = reset_link(cast.teacher_x.email)
    response = choose_password(Client(), link, GOOD_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")

    message = password_changed_mail(cast.teacher_x.email)
    assert f"Beheer: {site_url}/beheer/" in message.message
    assert f"Thuis inloggen: {site_url}/" in message.message
    assert f'<a href="{site_url}/beheer/">' in message.html_message
    assert f'<a href="{site_url}/">' in message.html_message


def test_the_password_changed_mail_to_a_parent_has_no_admin_address(cast, site_url):
    link = reset_link(cast.parent_a.email)
    assert choose_password(Client(), link, GOOD_PASSWORD).status_code == 302

    message = password_changed_mail(cast.parent_a.email)
    for body in (message.message, message.html_message):
        assert "/beheer/" not in body
        assert "Beheer:" not in body
    assert f"Thuis inloggen: {site_url}/" in message.message
    assert f'<a href="{site_url}/">' in message.html_message


# --- the mail worker survives a database error --------------------------------------------


@pytest.fixture
def worker(monkeypatch):
    """The worker's loop without waiting; restores the SIGTERM handler it installs."""
    sleeps: list[float] = []
    monkeypatch.setattr(mail_worker.time, "sleep", sleeps.append)
    monkeypatch.setattr(mail_worker, "close_old_connections", lambda: None)
    previous = signal.getsignal(signal.SIGTERM)
    yield sleeps
    signal.signal(signal.SIGTERM, previous)


def test_the_mail_worker_keeps_going_after_a_database_error(
    teacher, cast, monkeypatch, caplog, worker
):
    assert saved(post_change(teacher, cast.emma, parent_email_2=NEW))
    real_round, rounds = mail_worker.Command.run_round, []

    def run_round(self):
        rounds.append(1)
        if len(rounds) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        real_round(self)  # the next round does its work...
        self.running = False  # ...and then the test stops the loop

    monkeypatch.setattr(mail_worker.Command, "run_round", run_round)
    out = io.StringIO()
    with caplog.at_level("ERROR", logger="accounts.management.commands.mail_worker"):
        call_command("mail_worker", "--interval", "7", stdout=out)

    assert len(rounds) == 2
    assert worker == [7.0, 7.0]
    (record,) = [r for r in caplog.records if r.name == mail_worker.__name__]
    assert record.levelname == "ERROR"
    assert "server closed the connection unexpectedly" in record.exc_text
    # The second round delivered the invitation.
    assert "verstuurd: 1" in out.getvalue()
    assert len(mail.outbox) == 1
    assert only_message_to(NEW).status == STATUS.sent


def test_the_mail_worker_raises_a_database_error_with_once(monkeypatch, worker, db):
    rounds = []

    def run_round(self):
        rounds.append(1)
        raise DatabaseError("database is restarting")

    monkeypatch.setattr(mail_worker.Command, "run_round", run_round)
    with pytest.raises(DatabaseError, match="database is restarting"):
        call_command("mail_worker", "--once", stdout=io.StringIO())
    assert rounds == [1]
    assert worker == []


def test_the_mail_worker_stops_on_sigterm_after_the_round(monkeypatch, worker, db):
    rounds = []

    def run_round(self):
        rounds.append(1)
        self._stop(signal.SIGTERM, None)

    monkeypatch.setattr(mail_worker.Command, "run_round", run_round)
    call_command("mail_worker", stdout=io.StringIO())
    assert rounds == [1]
