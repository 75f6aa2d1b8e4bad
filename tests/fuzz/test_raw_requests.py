"""Requests no browser would send: raw bodies on every form, the language switch, odd cookies."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz import strategies as fuzzed
from tests.fuzz.support import (
    changed_counts,
    logged_in,
    no_server_error,
    row_counts,
    stays_on_site,
    with_fixtures,
)
from tests.helpers import change_url

#: Where a form posts to, who posts it, and what a random body may change there.
ENDPOINTS = {
    "login": (None, lambda cast: "/", {"accounts.LoginThrottle"}),
    "forgot": (None, lambda cast: reverse("forgot-password"), {"accounts.PasswordRequest"}),
    "set-password": (None, lambda cast: "/wachtwoord/abc/", set()),
    "child": ("parent_a", lambda cast: reverse("child-login", args=[cast.emma.code]), set()),
    "pupil": ("teacher_x", lambda cast: change_url(cast.emma), set()),
    "import": (
        "ict_x",
        lambda cast: reverse("admin:schools_school_import", args=[cast.school_x.pk]),
        {"schools.ImportLog"},
    ),
    "language": (None, lambda cast: "/i18n/setlang/", set()),
    "token": (None, lambda cast: reverse("oidc-token"), set()),
    "logout": ("parent_a", lambda cast: reverse("logout"), set()),
}
BOUNDARY = "grens"
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=nonsense",
    f"multipart/form-data; boundary={BOUNDARY}",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "application/json",
    "text/plain",
    "",
]


def bodies():
    part = st.builds(
        lambda name, filename, value: (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
            + (f'; filename="{filename}"' if filename is not None else "")
            + f"\r\n\r\n{value}\r\n"
        ).encode("utf-8", "surrogatepass"),
        st.sampled_from(["username", "email", "file", "entered", "avatar", "language", "x"]),
        st.one_of(st.none(), fuzzed.text(12)),
        fuzzed.text(),
    )
    multipart = st.builds(
        lambda parts, end: b"".join(parts) + end,
        st.lists(part, max_size=3),
        st.sampled_from([f"--{BOUNDARY}--\r\n".encode(), b"", f"--{BOUNDARY}".encode()]),
    )
    form = st.lists(st.tuples(fuzzed.text(10), fuzzed.text()), max_size=4).map(
        lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")
    )
    return st.one_of(
        st.binary(max_size=512),
        multipart,
        form,
        st.sampled_from([b"%", b"a=%ZZ&b=%00", b"=" * 2000, b"&" * 2000]),
    )


@with_fixtures
@example(
    endpoint="pupil", content_type=f"multipart/form-data; boundary={BOUNDARY}", body=b"--grens\r\n"
)
@example(
    endpoint="login",
    content_type="application/x-www-form-urlencoded",
    body=b"username=%00&password=%00",
)
@given(
    endpoint=st.sampled_from(sorted(ENDPOINTS)),
    content_type=st.sampled_from(CONTENT_TYPES),
    body=bodies(),
)
def test_any_body_on_any_form(cast, fuzz, endpoint, content_type, body):
    who, url, may_change = ENDPOINTS[endpoint]
    with fuzz.example():
        client = logged_in(getattr(cast, who)) if who else Client()
        before = row_counts()
        response = client.generic(
            "POST", url(cast), body, content_type=content_type, secure=endpoint == "token"
        )
        no_server_error(response)
        fuzz.note(str(response.status_code))
        changes = changed_counts(before)
        assert set(changes) <= may_change and all(n == 1 for n in changes.values()), changes


@with_fixtures
@example(language="en", next_url="/beheer/")
@example(language="\x00", next_url="//evil.example/")
@given(
    language=st.one_of(
        st.sampled_from(["nl", "en", "EN", "de", "en-gb", "nl\x00", ""]), fuzzed.text(8)
    ),
    next_url=st.one_of(
        st.none(),
        st.sampled_from(
            [
                "/",
                "//evil.example/",
                "https://evil.example/",
                "javascript:alert(1)",
                "/\\evil.example",
            ]
        ),
        fuzzed.text(),
    ),
)
def test_language_switch(db, fuzz, language, next_url):
    data = {"language": language} | ({"next": next_url} if next_url is not None else {})
    with fuzz.example():
        client = Client()
        response = client.post("/i18n/setlang/", data)
        no_server_error(response)
        assert response.status_code in (302, 204)
        if response.status_code == 302:
            assert stays_on_site(response["Location"]), response["Location"]
        chosen = client.cookies.get(settings.LANGUAGE_COOKIE_NAME)
        page = client.get("/")
        fuzz.note(page["Content-Language"])
        assert page.status_code == 200
        # English only for exactly "en"; Django may store another spelling, such as "EN".
        assert page["Content-Language"] == ("en" if chosen and chosen.value == "en" else "nl")


@with_fixtures
@given(
    cookie=st.one_of(
        fuzzed.text(),
        st.sampled_from(
            [
                "django_language=en; django_language=xx",
                'django_language="en"',
                "=;=;",
                "sessionid=\x00",
            ]
        ),
    )
)
def test_odd_cookies(db, fuzz, cookie):
    header = cookie if "=" in cookie else f"{settings.LANGUAGE_COOKIE_NAME}={cookie}"
    with fuzz.example():
        response = Client().get(
            "/", HTTP_COOKIE=header.encode("utf-8", "replace").decode("latin-1")
        )
        no_server_error(response)
        fuzz.note(response["Content-Language"])
        assert response.status_code == 200
        assert response["Content-Language"] in ("nl", "en")
