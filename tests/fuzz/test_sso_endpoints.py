"""The OpenID Connect endpoints take input from anyone: a browser and a publisher's server.

Authorize answers the registered redirect URI or an error page, and writes a code only for a
launch; the token endpoint gives a token only for a right code, verifier and secret.
"""

from __future__ import annotations

import base64
import functools
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from launcher.models import Publisher
from sso import keys
from sso.keygen import new_private_key_pem
from sso.launch import LAUNCH_TICKET_LIFETIME, TICKET_KEY
from sso.models import AccessToken, AuthorizationCode, LaunchTicket, digest
from tests.fuzz import strategies as fuzzed
from tests.fuzz.strategies import mostly
from tests.fuzz.support import changed_counts, no_server_error, row_counts, with_fixtures
from tests.test_sso import register

SITE = "https://thuis.example.nl"
REDIRECT = "https://rekenrups.example.org/callback"
SCOPE = "openid profile school"
RIGHT = "<right>"  # stands for the right value, which only the fixtures know


@functools.cache
def signing_pem() -> str:
    return new_private_key_pem(2048).decode()


@pytest.fixture
def registered(cast, settings):
    settings.SITE_URL = SITE
    settings.OIDC_SIGNING_KEY = signing_pem()
    settings.OIDC_PREVIOUS_SIGNING_KEYS = []
    keys.forget()
    rekenrups = register(
        cast.school_x, Publisher.objects.create(name="Uitgeverij Klimop"), "Rekenrups"
    )
    yield rekenrups.client, rekenrups.secret, rekenrups.product
    keys.forget()


VERIFIER = "v" * 43
CHALLENGE = create_s256_code_challenge(VERIFIER)

AUTHORIZE = {
    "response_type": mostly(
        st.just("code"),
        st.one_of(st.sampled_from(["token", "", "code id_token", "CODE"]), fuzzed.text(8)),
    ),
    "client_id": mostly(
        st.just(RIGHT),
        st.one_of(
            st.sampled_from(["", "tp-unknown", "\x00", RIGHT + "\x00", RIGHT + " "]),
            fuzzed.text(20),
        ),
    ),
    "redirect_uri": mostly(
        st.just(REDIRECT),
        st.one_of(
            st.sampled_from(
                [
                    REDIRECT + "/",
                    REDIRECT + "?x=1",
                    REDIRECT + "#x",
                    "https://evil.example/callback",
                    REDIRECT.upper(),
                    "",
                ]
            ),
            fuzzed.text(),
        ),
    ),
    "scope": mostly(
        st.just(SCOPE),
        st.one_of(
            st.sampled_from(
                [
                    "",
                    "openid",
                    "profile",
                    "openid eckid",
                    "openid " * 40,
                    "openid\x00",
                    "openid\nprofile",
                ]
            ),
            fuzzed.text(),
        ),
    ),
    "state": st.one_of(st.just("s"), fuzzed.text()),
    "nonce": mostly(
        st.just("n0nce"),
        st.one_of(st.sampled_from(["", "n" * 200, "n" * 201, "\x00", "n\x00"]), fuzzed.text()),
    ),
    "code_challenge": mostly(
        st.just(CHALLENGE),
        st.one_of(
            st.sampled_from(
                ["", "short", CHALLENGE + "\n", "a" * 128 + "\n", "a" * 129, CHALLENGE + "\x00"]
            ),
            fuzzed.text(),
        ),
    ),
    "code_challenge_method": mostly(
        st.just("S256"), st.one_of(st.sampled_from(["plain", "", "s256", "S256\n"]), fuzzed.text(6))
    ),
}


def full_request(**changes) -> dict:
    """A complete, correct authorization request with some parameters changed (None: left
    out)."""
    params = {
        "client_id": RIGHT,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": SCOPE,
        "state": "s",
        "nonce": "n0nce",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return {key: value for key, value in params.items() if value is not None}


def some_of(fields: dict):
    """Each parameter right, wrong, or missing."""
    return st.fixed_dictionaries(
        {name: mostly(strategy, st.none(), times=4) for name, strategy in fields.items()}
    )


def fill_in(params: dict, right: str) -> dict:
    return {
        name: value.replace(RIGHT, right) for name, value in params.items() if value is not None
    }


@with_fixtures
@example(params=dict.fromkeys(AUTHORIZE, None) | full_request(), ticket=True)
@example(params=full_request(nonce="n" * 201), ticket=True)
@example(params=full_request(scope="openid " * 40, nonce="n"), ticket=True)
@example(params=full_request(nonce="n\x00"), ticket=True)
@example(params=full_request(nonce="n", code_challenge="a" * 128 + "\n"), ticket=True)
@example(params={"client_id": RIGHT, "redirect_uri": REDIRECT + "\x1f", "state": "s"}, ticket=True)
@example(
    params={"client_id": RIGHT, "redirect_uri": REDIRECT, "response_type": "cödé"}, ticket=False
)
@example(params={"client_id": "\x00", "redirect_uri": REDIRECT}, ticket=True)
@example(params={"client_id": "\x00", "redirect_uri": REDIRECT}, ticket=False)
@given(params=some_of(AUTHORIZE), ticket=st.booleans())
def test_authorize(cast, registered, fuzz, params, ticket):
    client, _secret, product = registered
    query = fill_in(params, client.client_id)
    with fuzz.example():
        browser = Browser()
        if ticket:  # the child has just opened the product: what the launch leaves behind
            launch = LaunchTicket.objects.create(
                pupil=cast.emma,
                product=product,
                client=client,
                expires_at=timezone.now() + LAUNCH_TICKET_LIFETIME,
            )
            session = browser.session
            session[TICKET_KEY] = str(launch.code)
            session.save()
        before = row_counts()
        response = browser.get(reverse("oidc-authorize"), query, secure=True)
        no_server_error(response)
        changes = changed_counts(before)
        if response.status_code != 302:
            fuzz.note("error page")
            assert response.status_code == 400
            assert changes == {}
            return
        # Only ever to the registered address, character for character.
        location = urlsplit(response["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
        assert query.get("client_id") == client.client_id and query.get("redirect_uri") == REDIRECT
        answer = dict(parse_qsl(location.query))
        assert answer["iss"] == SITE
        if "code" not in answer:
            fuzz.note("refused")
            assert "error" in answer
            assert changes == {}
            return
        fuzz.note("code")
        assert ticket
        assert changes == {"sso.AuthorizationCode": 1}
        code = AuthorizationCode.objects.get(digest=digest(answer["code"]))
        assert (code.nonce, code.code_challenge) == (
            query.get("nonce", ""),
            query["code_challenge"],
        )
        assert code.pupil_id == cast.emma.pk


TOKEN = {
    "grant_type": mostly(
        st.just("authorization_code"),
        st.one_of(
            st.sampled_from(["refresh_token", "password", "", "client_credentials"]), fuzzed.text(8)
        ),
    ),
    "code": mostly(
        st.just(RIGHT),
        st.one_of(st.sampled_from(["", RIGHT + "\x00", RIGHT[:-1], "\x00"]), fuzzed.text()),
    ),
    "redirect_uri": mostly(
        st.just(REDIRECT), st.one_of(st.sampled_from([REDIRECT + "/", "", "\x00"]), fuzzed.text())
    ),
    "code_verifier": mostly(
        st.just(VERIFIER),
        st.one_of(
            st.sampled_from(
                ["", "v" * 42, VERIFIER + "\n", "v" * 128 + "\n", "v" * 129, VERIFIER + "\x00"]
            ),
            fuzzed.text(),
        ),
    ),
}
AUTH = st.one_of(
    st.just(("basic", RIGHT, RIGHT)),
    st.just(("post", RIGHT, RIGHT)),
    st.tuples(
        st.sampled_from(["basic", "post", "both", "none"]),
        st.one_of(st.just(RIGHT), fuzzed.text(20)),
        st.one_of(st.just(RIGHT), fuzzed.text(20)),
    ),
    st.tuples(st.just("header"), fuzzed.text(), st.just("")),
)


@with_fixtures
@example(
    form={
        "grant_type": "authorization_code",
        "code": RIGHT,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
    },
    auth=("basic", RIGHT, RIGHT),
)
@example(
    form={
        "grant_type": "authorization_code",
        "code": RIGHT,
        "redirect_uri": REDIRECT,
        "code_verifier": "v" * 128 + "\n",
    },
    auth=("basic", RIGHT, RIGHT),
)
@example(form={"grant_type": "authorization_code", "code": RIGHT}, auth=("basic", "\x00", "x"))
@example(form={"grant_type": "authorization_code", "code": RIGHT}, auth=("post", "\x00", "x"))
@example(form={}, auth=("header", "Basic AAAA", ""))
@example(form={}, auth=("header", " ", ""))
@example(form={}, auth=("header", "Basic /w==", ""))
@given(form=some_of(TOKEN), auth=AUTH)
def test_token(cast, registered, fuzz, form, auth):
    client, secret, product = registered
    code = secrets.token_urlsafe(36)
    form = fill_in(form, code)
    how, client_id, client_secret = auth
    client_id = client_id.replace(RIGHT, client.client_id)
    client_secret = client_secret.replace(RIGHT, secret)
    headers = {}
    if how in ("basic", "both"):
        pair = f"{client_id}:{client_secret}".encode()
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(pair).decode()
    if how in ("post", "both"):
        form |= {"client_id": client_id, "client_secret": client_secret}
    if how == "header":
        headers["HTTP_AUTHORIZATION"] = client_id
    with fuzz.example():
        AuthorizationCode.objects.create(
            digest=digest(code),
            client=client,
            pupil=cast.emma,
            product=product,
            redirect_uri=REDIRECT,
            scope=SCOPE,
            nonce="n0nce",
            code_challenge=CHALLENGE,
            code_challenge_method="S256",
        )
        before = row_counts()
        response = Browser().post(
            reverse("oidc-token"),
            urlencode(form),
            content_type="application/x-www-form-urlencoded",
            secure=True,
            **headers,
        )
        no_server_error(response)
        body = response.json()
        changes = changed_counts(before)
        if response.status_code != 200:
            fuzz.note("refused")
            assert "error" in body
            assert changes == {}
            return
        fuzz.note("token")
        right = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        }
        assert {name: form.get(name) for name in right} == right
        assert (client_id, client_secret) == (client.client_id, secret)
        changes.pop("sso.Pseudonym", None)  # the first token for this publisher makes one
        assert changes == {"sso.AccessToken": 1}
        assert AccessToken.objects.get().pupil_id == cast.emma.pk


@with_fixtures
@example(header="Bearer \x00")
@given(header=st.one_of(st.builds(lambda t: f"Bearer {t}", fuzzed.text()), fuzzed.text()))
def test_userinfo(registered, fuzz, header):
    with fuzz.example():
        before = row_counts()
        response = Browser().get(reverse("oidc-userinfo"), HTTP_AUTHORIZATION=header, secure=True)
        no_server_error(response)
        fuzz.note(str(response.status_code))
        assert response.status_code in (400, 401, 403)
        assert changed_counts(before) == {}
