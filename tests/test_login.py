"""The parents' home login at /, its throttle, remembering the address, and logging out.

The throttle's documented limits (accounts/throttle.py, README): five wrong passwords in a
row are free; then the next try waits 30 seconds, doubling with every further failure up to
15 minutes. Keyed on the typed address, never on the IP address.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.forms import ParentLoginForm
from accounts.models import LoginThrottle, User
from accounts.views import REMEMBER_COOKIE
from tests.conftest import PASSWORD
from tests.helpers import form_errors, html, log_in

pytestmark = pytest.mark.django_db

START = datetime(2025, 3, 10, 19, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
UNKNOWN = "onbekend@example.com"
#: The one answer for an unknown address, a wrong password and no password yet.
GENERIC = str(ParentLoginForm.error_messages["invalid_login"])


def is_throttled(response, wait: str) -> bool:
    errors = form_errors(response)
    return bool(errors) and errors[0].startswith(
        f"Te veel pogingen met dit e-mailadres. Wacht {wait} en probeer het dan opnieuw"
    )


def fail(client, address: str, times: int = 1, *, ip: str | None = None):
    for _ in range(times):
        response = log_in(client, address, "helemaal-fout", ip=ip)
        assert response.status_code == 200
        if ip:
            assert came_from(response) == ip
    return response


def came_from(response) -> str:
    """The IP address the server saw for the request behind ``response``."""
    return response.wsgi_request.META["REMOTE_ADDR"]


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


def wait(frozen, **delta) -> None:
    frozen.shift(timedelta(**delta))


# --- the page and a good login -------------------------------------------------------------


def test_it_shows_the_login_form_in_dutch(client, db):
    page = client.get("/")
    assert page.status_code == 200
    labels = [str(field.label) for field in page.context["form"]]
    assert labels == ["E-mailadres", "Wachtwoord", "Onthoud mijn e-mailadres"]
    text = html(page)
    for label in [*labels, "Thuis inloggen", "Gebruikersnaam of wachtwoord vergeten"]:
        assert label in text
    assert 'name="username"' in text
    assert 'type="password"' in text
    assert f'href="{reverse("forgot-password")}"' in text


@pytest.mark.parametrize("typed", ["ouder.a@example.com", "  OUDER.A@Example.COM "])
def test_it_logs_in_with_a_new_session_key(client, cast, typed):
    session = client.session
    session["seen_the_home_page"] = True
    session.save()
    before = session.session_key

    response = log_in(client, typed, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/kinderen/"
    after = client.session.session_key
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.get("/kinderen/").status_code == 200


def test_it_sends_a_logged_in_parent_on_to_the_children(client, cast):
    client.force_login(cast.parent_a)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/kinderen/"


def test_it_ignores_next_pointing_to_another_host(client, cast):
    response = log_in(client, cast.parent_a.email, PASSWORD, next="https://evil.example.com/")
    assert response.status_code == 302
    assert response["Location"] == "/kinderen/"


def test_it_follows_next_on_this_host(client, cast):
    response = client.post(
        "/?next=/kinderen/%3Fvan%3Dmail",
        {"username": cast.parent_a.email, "password": PASSWORD},
    )
    assert response["Location"] == "/kinderen/?van=mail"


# --- one answer for every failure ----------------------------------------------------------


def test_it_gives_one_generic_answer_for_every_failure(cast):
    User.objects.for_email("nog.geen.wachtwoord@example.com")
    tries = [
        (cast.parent_a.email, "helemaal-fout"),
        (UNKNOWN, PASSWORD),
        ("nog.geen.wachtwoord@example.com", PASSWORD),
    ]
    for address, password in tries:
        client = Client()
        answer = log_in(client, address, password)
        assert answer.status_code == 200
        assert form_errors(answer) == [GENERIC]
        assert "_auth_user_id" not in client.session


# --- remembering the address ---------------------------------------------------------------


def test_it_remembers_only_the_address_when_asked(client, cast):
    response = log_in(client, "  Ouder.A@Example.com ", PASSWORD, remember="on")
    cookie = response.cookies[REMEMBER_COOKIE]
    assert cookie.value == "ouder.a@example.com"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) > 30 * 24 * 60 * 60
    assert all(PASSWORD not in morsel.value for morsel in response.cookies.values())

    client.post("/uitloggen/")
    form = client.get("/").context["form"]
    assert form["username"].value() == "ouder.a@example.com"
    assert form["remember"].value() is True
    assert 'value="ouder.a@example.com"' in html(client.get("/"))


def test_it_forgets_the_address_when_the_box_is_unticked(client, cast):
    log_in(client, cast.parent_a.email, PASSWORD, remember="on")
    client.post("/uitloggen/")

    response = log_in(client, cast.parent_a.email, PASSWORD)
    assert response.status_code == 302
    assert response.cookies[REMEMBER_COOKIE].value == ""
    assert response.cookies[REMEMBER_COOKIE]["max-age"] == 0

    client.post("/uitloggen/")
    form = client.get("/").context["form"]
    assert not form["username"].value()
    assert not form["remember"].value()


# --- throttling ----------------------------------------------------------------------------


def test_it_allows_five_wrong_passwords_and_then_makes_the_sixth_try_wait(cast, frozen):
    client = Client()
    for _ in range(5):
        assert form_errors(fail(client, cast.parent_a.email)) == [GENERIC]

    # Even the right password is refused while the wait lasts.
    response = log_in(client, cast.parent_a.email, PASSWORD)
    assert response.status_code == 200
    assert is_throttled(response, "30 seconden")
    assert "Te veel pogingen" in html(response)
    assert "_auth_user_id" not in client.session

    wait(frozen, seconds=20)
    assert is_throttled(log_in(client, cast.parent_a.email, PASSWORD), "10 seconden")
    wait(frozen, seconds=10)
    assert log_in(client, cast.parent_a.email, PASSWORD).status_code == 302


def test_it_doubles_the_wait_with_every_further_failure_up_to_fifteen_minutes(cast, frozen):
    client = Client()
    fail(client, cast.parent_a.email, times=5)
    waits = [
        (timedelta(seconds=30), "1 minuut"),
        (timedelta(minutes=1), "2 minuten"),
        (timedelta(minutes=2), "4 minuten"),
        (timedelta(minutes=4), "8 minuten"),
        (timedelta(minutes=8), "15 minuten"),
        (timedelta(minutes=15), "15 minuten"),
    ]
    for waited, next_wait in waits:
        frozen.shift(waited)
        assert form_errors(fail(client, cast.parent_a.email)) == [GENERIC]
        assert is_throttled(log_in(client, cast.parent_a.email, PASSWORD), next_wait)

    # Cools off: after the wait the right password works and clears the count.
    frozen.shift(timedelta(minutes=15))
    assert log_in(client, cast.parent_a.email, PASSWORD).status_code == 302
    assert not LoginThrottle.objects.exists()


def test_it_starts_counting_again_after_a_correct_password(cast, frozen):
    client = Client()
    fail(client, cast.parent_a.email, times=5)
    wait(frozen, seconds=30)
    assert log_in(client, cast.parent_a.email, PASSWORD).status_code == 302
    client.post("/uitloggen/")

    # Five more free tries, as if nothing happened before.
    for _ in range(5):
        assert form_errors(fail(client, cast.parent_a.email)) == [GENERIC]
    assert is_throttled(log_in(client, cast.parent_a.email, PASSWORD), "30 seconden")


def test_it_throttles_an_unknown_address_exactly_like_a_known_one(cast, frozen):
    known, unknown = Client(), Client()
    for _ in range(5):
        assert form_errors(fail(known, cast.parent_a.email)) == form_errors(fail(unknown, UNKNOWN))
    assert form_errors(log_in(known, cast.parent_a.email, PASSWORD)) == form_errors(
        log_in(unknown, UNKNOWN, PASSWORD)
    )
    assert is_throttled(log_in(unknown, UNKNOWN, PASSWORD), "30 seconden")
    wait(frozen, seconds=30)
    assert form_errors(fail(known, cast.parent_a.email)) == form_errors(fail(unknown, UNKNOWN))
    assert is_throttled(log_in(unknown, UNKNOWN, PASSWORD), "1 minuut")


def test_it_does_not_slow_down_another_address(cast, frozen):
    fail(Client(), cast.parent_a.email, times=8)
    assert log_in(Client(), cast.parent_b.email, PASSWORD).status_code == 302


def test_it_counts_per_address_whatever_the_spelling(cast, frozen):
    client = Client()
    for spelling in ("ouder.a@example.com", "OUDER.A@example.com", " Ouder.A@Example.COM "):
        fail(client, spelling)
    fail(client, "ouder.a@EXAMPLE.com", times=2)
    assert is_throttled(log_in(client, "ouder.a@example.com", PASSWORD), "30 seconden")


def test_it_does_not_key_the_count_on_the_ip_address(cast, frozen):
    # A family or a school shares one IP address; guessers use many.
    fail(Client(), cast.parent_a.email, times=3, ip="192.0.2.10")
    fail(Client(), cast.parent_a.email, times=2, ip="198.51.100.20")
    response = log_in(Client(), cast.parent_a.email, PASSWORD, ip="203.0.113.30")
    assert came_from(response) == "203.0.113.30"
    assert is_throttled(response, "30 seconden")
    # The IP address went as the request's address, not as a form field.
    assert "REMOTE_ADDR" not in response.wsgi_request.POST
    # ...and one address's guesses from the school's IP do not lock another parent out.
    fail(Client(), cast.parent_a.email, times=3, ip="192.0.2.10")
    other = log_in(Client(), cast.parent_b.email, PASSWORD, ip="192.0.2.10")
    assert came_from(other) == "192.0.2.10"
    assert other.status_code == 302
    assert LoginThrottle.objects.get().key == cast.parent_a.email


def test_it_throttles_the_admin_login_the_same_way(cast, frozen):
    url = reverse("admin:login")
    client = Client()
    for _ in range(5):
        response = client.post(
            url, {"username": cast.teacher_x.email, "password": "fout", "next": "/beheer/"}
        )
        assert response.status_code == 200
        assert "Te veel pogingen" not in html(response)
    response = client.post(
        url, {"username": cast.teacher_x.email, "password": PASSWORD, "next": "/beheer/"}
    )
    assert response.status_code == 200
    assert "Te veel pogingen met dit e-mailadres. Wacht 30 seconden" in html(response)
    assert "_auth_user_id" not in client.session

    wait(frozen, seconds=30)
    response = client.post(
        url, {"username": cast.teacher_x.email, "password": PASSWORD, "next": "/beheer/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/beheer/"


def test_it_shares_the_count_between_the_home_and_the_admin_login(cast, frozen):
    fail(Client(), cast.teacher_x.email, times=3)
    for _ in range(2):
        Client().post(reverse("admin:login"), {"username": cast.teacher_x.email, "password": "x"})
    assert is_throttled(log_in(Client(), cast.teacher_x.email, PASSWORD), "30 seconden")


# --- logging out ---------------------------------------------------------------------------


def test_it_logs_out_only_by_post_and_ends_the_session_on_the_server(client, cast):
    log_in(client, cast.parent_a.email, PASSWORD)
    session_key = client.session.session_key
    assert Session.objects.filter(session_key=session_key).exists()

    assert client.get("/uitloggen/").status_code == 405
    assert client.get("/kinderen/").status_code == 200

    response = client.post("/uitloggen/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not Session.objects.filter(session_key=session_key).exists()
    assert client.get("/kinderen/").status_code == 302


def test_it_does_not_accept_the_old_session_cookie_after_logging_out(client, cast, settings):
    log_in(client, cast.parent_a.email, PASSWORD)
    copied = Client()  # e.g. a cookie kept by a shared computer's browser
    copied.cookies[settings.SESSION_COOKIE_NAME] = client.session.session_key
    assert copied.get("/kinderen/").status_code == 200

    client.post("/uitloggen/")
    assert copied.get("/kinderen/").status_code == 302
