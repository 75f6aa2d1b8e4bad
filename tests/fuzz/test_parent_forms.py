"""The parents' forms: log in at /, "forgot password", and choosing a password by link."""

from __future__ import annotations

from urllib.parse import quote

from django.test import Client
from hypothesis import example, given
from hypothesis import strategies as st

from accounts.models import LoginThrottle, PasswordLink, PasswordRequest, User, normalize_email
from tests.conftest import PASSWORD
from tests.fuzz import strategies as fuzzed
from tests.fuzz.strategies import mostly
from tests.fuzz.support import (
    changed_counts,
    no_server_error,
    row,
    row_counts,
    stays_on_site,
    with_fixtures,
)
from tests.helpers import LINK_DEAD, html


def templates(response) -> list[str]:
    return [template.name for template in response.templates]


def parent_a_spellings():
    """Parent A's address as a parent might type it: any case, spaces around it."""
    return st.builds(
        lambda before, upper, after: (
            before + ("OUDER.A@EXAMPLE.COM" if upper else "ouder.a@example.com") + after
        ),
        st.sampled_from(["", " ", "\t"]),
        st.booleans(),
        st.sampled_from(["", " ", "\n"]),
    )


@with_fixtures
@example(" Ouder.A@Example.COM\n", PASSWORD, "on", "/kinderen/")
@given(
    username=mostly(parent_a_spellings(), fuzzed.emails(), times=1),
    password=mostly(st.just(PASSWORD), fuzzed.text(), times=1),
    remember=st.sampled_from([None, "on", "", "\x00", "ja"]),
    next_url=st.one_of(
        st.none(),
        st.sampled_from(
            [
                "/kinderen/",
                "//evil.example",
                "https://evil.example/",
                "/\x00",
                "javascript:alert(1)",
            ]
        ),
        fuzzed.text(),
    ),
)
def test_login_never_fails_and_only_counts_a_failure(
    cast, fuzz, username, password, remember, next_url
):
    data = {"username": username, "password": password}
    if remember is not None:
        data["remember"] = remember
    if next_url is not None:
        data["next"] = next_url
    with fuzz.example():
        before = row_counts()
        response = Client().post("/", data)
        no_server_error(response)
        right = normalize_email(username) == cast.parent_a.email and password == PASSWORD
        if response.status_code == 302:
            fuzz.note("accepted")
            assert right, (username, password)
            assert stays_on_site(response["Location"]), response["Location"]
            assert changed_counts(before) == {}
            assert row(cast.parent_a)["last_home_login"] is not None
        else:
            fuzz.note("refused")
            assert response.status_code == 200
            assert "accounts/login.html" in templates(response)
            assert not right, (username, password)
            changes = changed_counts(before)
            # A wrong password counts against the typed address, and that is all.
            assert changes in ({}, {"accounts.LoginThrottle": 1}), changes
            for throttle in LoginThrottle.objects.all():
                assert "\x00" not in throttle.key and len(throttle.key) <= 254


@with_fixtures
@given(email=st.one_of(fuzzed.emails(), fuzzed.text()))
def test_forgot_password_writes_one_request_or_nothing(cast, fuzz, email):
    with fuzz.example():
        before = row_counts()
        response = Client().post("/wachtwoord-vergeten/", {"email": email})
        no_server_error(response)
        assert response.status_code == 200
        if "accounts/forgot_sent.html" in templates(response):
            fuzz.note("accepted")
            assert changed_counts(before) == {"accounts.PasswordRequest": 1}
            request = PasswordRequest.objects.get()
            assert request.email == normalize_email(email)
            assert "\x00" not in request.email and len(request.email) <= 254
        else:
            fuzz.note("refused")
            assert response.context["form"].errors
            assert changed_counts(before) == {}


def good_passwords():
    return st.from_regex(r"[A-Za-z]{6,12}-[A-Za-z0-9]{4,10}[!?]", fullmatch=True)


@with_fixtures
@given(
    first=st.one_of(good_passwords(), fuzzed.text()),
    second=st.one_of(st.none(), fuzzed.text()),
)
def test_set_password_saves_a_good_password_and_nothing_else(cast, fuzz, first, second):
    second = first if second is None else second
    with fuzz.example():
        _link, token = PasswordLink.issue(cast.parent_b, PasswordLink.Purpose.RESET)
        old_hash = row(cast.parent_b)["password"]
        before = row_counts()
        response = Client().post(
            f"/wachtwoord/{token}/", {"new_password1": first, "new_password2": second}
        )
        no_server_error(response)
        user = User.objects.get(pk=cast.parent_b.pk)
        if response.status_code == 302:
            fuzz.note("accepted")
            assert first == second
            assert user.check_password(first)
            assert PasswordLink.find(token) is None
            assert changed_counts(before) == {"post_office.Email": 1}
        else:
            fuzz.note("refused")
            assert response.status_code == 200
            assert response.context["form"].errors
            assert user.password == old_hash
            assert PasswordLink.find(token) is not None
            assert changed_counts(before) == {}


@with_fixtures
@given(token=fuzzed.text(), method=st.sampled_from(["get", "post"]))
def test_an_unknown_link_is_dead_whatever_it_looks_like(cast, fuzz, token, method):
    with fuzz.example():
        before = row_counts()
        client = Client()
        url = f"/wachtwoord/{quote(token, safe='')}/"
        response = getattr(client, method)(url, {"new_password1": "x", "new_password2": "x"})
        no_server_error(response)
        # An empty token, or one with a slash, is another address: not found.
        assert response.status_code in (200, 404)
        if response.status_code == 200:
            assert LINK_DEAD in html(response)
        assert changed_counts(before) == {}
