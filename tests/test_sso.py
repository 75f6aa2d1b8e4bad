"""Single sign-on: the portal as OpenID Connect provider for publishers (sso/).

A child opens a product that has a client: the launch records a LaunchEvent, ends the child's
session and leaves a one-use ticket; the publisher's initiate-login URL sends the browser to
/oidc/authorize/, which hands a code to the exact redirect URI; the publisher exchanges it
(client secret, PKCE S256) for an access token and an RS256 ID token with a pseudonymous `sub`.
"""

from __future__ import annotations

import base64
import functools
import html
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.test import Client as Browser
from django.urls import reverse
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from launcher.models import LaunchEvent, Licence, Product, Publisher
from schools.models import LoginMethod, Pupil, School
from sso import keys
from sso.keygen import new_private_key_pem
from sso.launch import LAUNCH_TICKET_LIFETIME
from sso.models import CODE_LIFETIME, AccessToken, AuthorizationCode, Client

pytestmark = pytest.mark.django_db

SITE = "https://thuis.example.nl"
SCOPE = "openid profile school"
ECK_ID = "https://ketenid.nl/201703/0f2b1c9e8d7a6b5c4d3e2f1a0b9c8d7e"
#: Claims about the token itself; everything else in an ID token is about the pupil.
PROTOCOL_CLAIMS = {"iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash"}
#: All a publisher with the scopes profile and school may learn about a pupil.
PUPIL_CLAIMS = {"sub", "given_name", "group_name", "year_level", "school_brin", "role"}
PRIVATE_KEY_PARTS = {"d", "p", "q", "dp", "dq", "qi"}


@functools.cache
def pem(number: int) -> str:
    """Signing key number `number`, made once per run (2048 bits keeps it quick)."""
    return new_private_key_pem(2048).decode()


def kid_of(pem_text: str) -> str:
    return RSAKey.import_key(pem_text).thumbprint()  # RFC 7638, as sso/keys.py uses


@pytest.fixture(autouse=True)
def oidc(settings):
    """SITE_URL and a signing key of the test's own; the key cache is cleared both ways."""
    settings.SITE_URL = SITE
    settings.OIDC_SIGNING_KEY = pem(0)
    settings.OIDC_PREVIOUS_SIGNING_KEYS = []
    keys.forget()
    yield settings
    keys.forget()


# --- publishers, clients and products -----------------------------------------------------


@dataclass
class Registered:
    """A publisher's client, its clear secret and the product it signs pupils in to."""

    client: Client
    secret: str
    product: Product

    @property
    def client_id(self) -> str:
        return self.client.client_id

    @property
    def redirect_uri(self) -> str:
        return self.client.redirect_uri_list[0]


def register(school: School, publisher: Publisher, name: str, scopes="profile school"):
    """A product with a client, licensed to the whole school until 2100."""
    base = f"https://{name.lower().replace(' ', '-')}.example.org"
    client = Client(
        publisher=publisher,
        name=f"{name} inloggen",
        redirect_uris=f"{base}/callback\n{base}/other-callback",
        initiate_login_uri=f"{base}/login",
        scopes=scopes,
    )
    secret = client.new_secret()
    client.full_clean()
    client.save()
    product = Product.objects.create(
        publisher=publisher, name=name, launch_url=f"{base}/start", client=client
    )
    Licence.objects.create(
        school=school, product=product, valid_from=date(2000, 1, 1), valid_until=date(2100, 1, 1)
    )
    return Registered(client, secret, product)


@pytest.fixture
def klimop(db):
    return Publisher.objects.create(name="Uitgeverij Klimop")


@pytest.fixture
def rekenrups(cast, klimop):
    return register(cast.school_x, klimop, "Rekenrups")


@pytest.fixture
def taaltuin(cast):
    """The same school's product from another publisher, with a client of its own."""
    return register(cast.school_x, Publisher.objects.create(name="Uitgeverij Zeef"), "Taaltuin")


# --- the browser's side: child login, launch, authorization -------------------------------


def log_in_child(browser, cast, pupil=None, secret=("2", "4", "6", "8")):
    """The parent logs in and the child taps its PIN (or pictures) on the pad."""
    pupil = pupil or cast.emma
    browser.force_login(cast.parent_a)
    url = reverse("child-login", args=[pupil.code])
    joiner = "" if pupil.login_method == LoginMethod.PIN else ","
    entered: list[str] = []
    response = None
    for key in secret:
        response = browser.post(url, {"entered": joiner.join(entered), "key": key})
        entered.append(key)
    assert response["Location"] == reverse("software")


def launch(browser, cast, registered: Registered, pupil=None, secret=("2", "4", "6", "8")):
    """The child opens the product; returns the address of the "gaat open" page."""
    log_in_child(browser, cast, pupil, secret)
    response = browser.post(reverse("launch", args=[registered.product.code]))
    started = reverse("launched", args=[registered.product.code])
    assert response["Location"] == started
    return started


@dataclass
class Authorization:
    params: dict
    verifier: str
    response: object

    @property
    def answer(self) -> dict:
        """The parameters handed to the redirect URI (which must be the requested one)."""
        return redirected_to(self.response, self.params["redirect_uri"])

    @property
    def code(self) -> str:
        answer = self.answer
        assert "error" not in answer, answer
        assert answer["state"] == self.params["state"]
        return answer["code"]


def authorize(browser, registered: Registered, **changes) -> Authorization:
    """What the publisher's initiate-login URL sends the browser to; None drops a parameter."""
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": registered.client_id,
        "redirect_uri": registered.redirect_uri,
        "scope": SCOPE,
        "state": secrets.token_urlsafe(12),
        "nonce": secrets.token_urlsafe(12),
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    params.update(changes)
    params = {name: value for name, value in params.items() if value is not None}
    return Authorization(
        params, verifier, browser.get(reverse("oidc-authorize"), params, secure=True)
    )


def redirected_to(response, redirect_uri: str) -> dict:
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    return dict(parse_qsl(location.query)) | dict(parse_qsl(location.fragment))


def assert_refused(authorization: Authorization, error: str) -> None:
    """An error on the redirect URI, the client's state echoed, and no code."""
    answer = authorization.answer
    assert answer["error"] == error, answer
    assert answer.get("state") == authorization.params.get("state")
    assert not {"code", "access_token", "id_token"} & set(answer)


# --- the publisher's side: token, keys and user info --------------------------------------


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def exchange(registered: Registered, code, verifier, *, auth="basic", secret=None, **changes):
    """The publisher's server posts the code to the token endpoint (no browser cookies)."""
    secret = registered.secret if secret is None else secret
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": registered.redirect_uri,
        "code_verifier": verifier,
    }
    headers = {}
    if auth == "basic":
        headers["HTTP_AUTHORIZATION"] = basic_auth(registered.client_id, secret)
    else:
        form |= {"client_id": registered.client_id, "client_secret": secret}
    form.update(changes)
    form = {name: value for name, value in form.items() if value is not None}
    return Browser().post(
        reverse("oidc-token"),
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        secure=True,
        **headers,
    )


def published_jwks() -> dict:
    response = Browser().get(reverse("oidc-jwks"))
    assert response.status_code == 200
    return response.json()


def verify(id_token: str, jwks: dict | None = None) -> tuple[dict, dict]:
    """Check the signature against the published key set, as a publisher does."""
    token = jwt.decode(
        id_token, KeySet.import_key_set(jwks or published_jwks()), algorithms=["RS256"]
    )
    return token.header, token.claims


def userinfo(access_token: str):
    return Browser().get(
        reverse("oidc-userinfo"), HTTP_AUTHORIZATION=f"Bearer {access_token}", secure=True
    )


@dataclass
class SignedIn:
    authorization: Authorization
    tokens: dict
    header: dict
    claims: dict


def sign_in(
    browser, cast, registered: Registered, pupil=None, secret=("2", "4", "6", "8"), **changes
):
    """Launch, authorize and exchange: what a publisher ends up with."""
    launch(browser, cast, registered, pupil, secret)
    authorization = authorize(browser, registered, **changes)
    response = exchange(registered, authorization.code, authorization.verifier)
    assert response.status_code == 200, response.content
    tokens = response.json()
    header, claims = verify(tokens["id_token"])
    return SignedIn(authorization, tokens, header, claims)


def expire_licence(product: Product, last_day: date) -> None:
    Licence.objects.filter(product=product).update(valid_until=last_day)


# --- 1. discovery -------------------------------------------------------------------------


def test_it_describes_itself_from_site_url_never_from_the_host_header(settings):
    settings.ALLOWED_HOSTS = ["portal.evil.example", "testserver"]
    response = Browser().get("/.well-known/openid-configuration", HTTP_HOST="portal.evil.example")
    assert response.status_code == 200
    assert "evil" not in response.content.decode()
    config = response.json()
    assert config["issuer"] == SITE
    assert config["authorization_endpoint"] == f"{SITE}/oidc/authorize/"
    assert config["token_endpoint"] == f"{SITE}/oidc/token/"
    assert config["userinfo_endpoint"] == f"{SITE}/oidc/userinfo/"
    assert config["jwks_uri"] == f"{SITE}/oidc/jwks/"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["response_types_supported"] == ["code"]
    assert config["grant_types_supported"] == ["authorization_code"]
    assert config["subject_types_supported"] == ["pairwise"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(config["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert "openid" in config["scopes_supported"]
    for claim in ("family_name", "birthdate", "email", "name"):
        assert claim not in config["claims_supported"]


def test_it_follows_site_url_when_it_changes(settings):
    settings.SITE_URL = "https://portaal.school.example"
    config = Browser().get("/.well-known/openid-configuration").json()
    assert config["issuer"] == "https://portaal.school.example"
    assert config["jwks_uri"] == "https://portaal.school.example/oidc/jwks/"


# --- 2. keys ------------------------------------------------------------------------------


def test_it_publishes_only_the_public_half_of_the_signing_key():
    published = published_jwks()
    [key] = published["keys"]
    assert key["kty"] == "RSA"
    assert key["alg"] == "RS256"
    assert key["use"] == "sig"
    assert key["kid"] == kid_of(pem(0))
    assert {"n", "e"} <= set(key)
    assert not PRIVATE_KEY_PARTS & set(key)
    assert not RSAKey.import_key(key).is_private


def test_it_keeps_verifying_tokens_signed_before_a_key_rotation(client, cast, rekenrups, oidc):
    before = sign_in(client, cast, rekenrups)
    assert before.header["kid"] == kid_of(pem(0))

    oidc.OIDC_SIGNING_KEY = pem(1)
    oidc.OIDC_PREVIOUS_SIGNING_KEYS = [pem(0)]
    keys.forget()

    published = published_jwks()
    assert [key["kid"] for key in published["keys"]] == [kid_of(pem(1)), kid_of(pem(0))]
    for key in published["keys"]:
        assert not PRIVATE_KEY_PARTS & set(key)
    # New tokens carry the new key's kid; the previous key signs nothing any more.
    after = sign_in(client, cast, rekenrups)
    assert after.header["kid"] == kid_of(pem(1))
    # The token from before the rotation still verifies against what is published now.
    header, claims = verify(before.tokens["id_token"], published)
    assert header["kid"] == kid_of(pem(0))
    assert claims["given_name"] == "Emma"

    # Once the previous key leaves the set, the old token no longer verifies: the check is real.
    oidc.OIDC_PREVIOUS_SIGNING_KEYS = []
    keys.forget()
    with pytest.raises(JoseError):
        verify(before.tokens["id_token"])


# --- 3. the happy path --------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_it_signs_emma_in_at_the_publisher_end_to_end(client, cast, rekenrups, auth):
    started = launch(client, cast, rekenrups)
    assert LaunchEvent.objects.filter(pupil=cast.emma, product=rekenrups.product).count() == 1

    # The "gaat open" page sends the browser to the publisher's initiate-login URL.
    page = client.get(started).content.decode()
    found = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', page)
    assert found, page
    destination = urlsplit(html.unescape(found.group(1)))
    assert f"{destination.scheme}://{destination.netloc}{destination.path}" == (
        rekenrups.client.initiate_login_uri
    )
    assert dict(parse_qsl(destination.query)) == {
        "iss": SITE,
        "target_link_uri": rekenrups.product.launch_url,
    }

    authorization = authorize(client, rekenrups)
    code = authorization.code
    response = exchange(rekenrups, code, authorization.verifier, auth=auth)
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    tokens = response.json()
    assert tokens["token_type"].lower() == "bearer"
    assert 0 < tokens["expires_in"] <= 300
    assert "refresh_token" not in tokens

    header, claims = verify(tokens["id_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] == kid_of(pem(0))
    assert claims["iss"] == SITE
    assert claims["aud"] == rekenrups.client_id
    assert claims["nonce"] == authorization.params["nonce"]
    assert 0 < claims["exp"] - claims["iat"] <= 300
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": SITE},
        aud={"essential": True, "value": rekenrups.client_id},
        exp={"essential": True},
    ).validate(claims)  # not expired, not from the future
    assert claims["given_name"] == "Emma"
    assert claims["group_name"] == "Groep 5"
    assert claims["year_level"] == "5"
    assert claims["school_brin"] == "12AB"
    assert claims["role"] == "pupil@12AB"
    # Nothing else about Emma: no family name, birth date, e-mail or ECK iD.
    assert set(claims) == PROTOCOL_CLAIMS | PUPIL_CLAIMS
    payload = base64.urlsafe_b64decode(tokens["id_token"].split(".")[1] + "==").decode()
    assert "Visser" not in payload
    assert cast.parent_a.email not in payload

    info = userinfo(tokens["access_token"])
    assert info.status_code == 200
    assert info.json() == {name: claims[name] for name in PUPIL_CLAIMS}


def test_it_wants_a_bearer_token_at_userinfo():
    assert Browser().get(reverse("oidc-userinfo"), secure=True).status_code == 401
    response = userinfo("not-a-token-we-issued")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_it_gives_a_client_without_scopes_only_the_pseudonym(client, cast, klimop):
    bare = register(cast.school_x, klimop, "Rekenrups", scopes="")
    signed_in = sign_in(client, cast, bare, scope="openid profile school eckid")
    assert set(signed_in.claims) == PROTOCOL_CLAIMS | {"sub"}
    assert userinfo(signed_in.tokens["access_token"]).json() == {"sub": signed_in.claims["sub"]}


# --- 4. pseudonyms ------------------------------------------------------------------------


def test_it_gives_each_publisher_its_own_stable_pseudonym(
    client, cast, klimop, rekenrups, taaltuin
):
    Pupil.objects.filter(pk=cast.daan.pk).update(home_login_enabled=True)
    first = sign_in(client, cast, rekenrups).claims["sub"]
    elsewhere = sign_in(client, cast, taaltuin).claims["sub"]
    again = sign_in(client, cast, rekenrups).claims["sub"]
    sibling = register(cast.school_x, klimop, "Rekenrups Plus")
    via_sibling = sign_in(client, cast, sibling).claims["sub"]
    brother = sign_in(client, cast, rekenrups, pupil=cast.daan, secret=("kat", "zon"))

    assert first == again == via_sibling  # one publisher, one name for Emma
    assert elsewhere != first  # publishers cannot link their records
    assert brother.claims["given_name"] == "Daan"
    assert brother.claims["sub"] not in {first, elsewhere}
    for sub in (first, elsewhere):
        assert len(sub) >= 22
        assert cast.emma.code.hex not in sub.replace("-", "")
        assert str(cast.emma.code) not in sub
        assert "Emma" not in sub


# --- 5. ECK iD ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_scopes", "requested", "has_eck_id", "shared"),
    [
        ("profile school eckid", "openid profile school eckid", True, True),
        ("profile school eckid", "openid profile school", True, False),
        ("profile school", "openid profile school eckid", True, False),
        ("profile school eckid", "openid profile school eckid", False, False),
    ],
    ids=["allowed-asked-known", "not-asked", "not-allowed", "pupil-has-none"],
)
def test_it_passes_the_eck_id_only_when_allowed_asked_and_known(
    client, cast, klimop, client_scopes, requested, has_eck_id, shared
):
    if has_eck_id:
        Pupil.objects.filter(pk=cast.emma.pk).update(eck_id=ECK_ID)
    registered = register(cast.school_x, klimop, "Rekenrups", scopes=client_scopes)
    signed_in = sign_in(client, cast, registered, scope=requested)
    info = userinfo(signed_in.tokens["access_token"]).json()
    if shared:
        assert signed_in.claims["eck_id"] == ECK_ID
        assert info["eck_id"] == ECK_ID
    else:
        assert "eck_id" not in signed_in.claims
        assert "eck_id" not in info
    assert signed_in.claims["given_name"] == "Emma"  # the rest of the sign-in still works


# --- 6. refusals --------------------------------------------------------------------------


@pytest.fixture
def launched(client, cast, rekenrups):
    """Emma has just opened Rekenrups: a ticket for its client waits in this browser."""
    launch(client, cast, rekenrups)
    return client


@pytest.mark.parametrize(
    "changes",
    [
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
    ],
    ids=["no-pkce", "method-without-challenge", "plain", "challenge-without-method"],
)
def test_it_requires_pkce_with_s256(launched, rekenrups, changes):
    authorization = authorize(launched, rekenrups, **changes)
    assert_refused(authorization, "invalid_request")
    assert not AuthorizationCode.objects.exists()


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://rekenrups.example.org/callback/",
        "https://rekenrups.example.org/callback?next=/",
        "https://rekenrups.example.org/callback#top",
        "http://rekenrups.example.org/callback",
        "https://REKENRUPS.example.org/callback",
        "https://rekenrups.example.org.evil.example/callback",
        None,
    ],
    ids=["slash", "query", "fragment", "http", "case", "other-host", "missing"],
)
def test_it_redirects_nowhere_for_a_redirect_uri_not_registered_exactly(
    launched, rekenrups, redirect_uri
):
    authorization = authorize(launched, rekenrups, redirect_uri=redirect_uri)
    response = authorization.response
    assert response.status_code == 400
    assert not response.has_header("Location")
    assert "sso/error.html" in [template.name for template in response.templates]
    assert not AuthorizationCode.objects.exists()


def test_it_redirects_nowhere_for_an_unknown_or_inactive_client(launched, rekenrups):
    unknown = authorize(launched, rekenrups, client_id="tp-onbekend")
    assert unknown.response.status_code == 400
    assert not unknown.response.has_header("Location")
    Client.objects.filter(pk=rekenrups.client.pk).update(is_active=False)
    inactive = authorize(launched, rekenrups)
    assert inactive.response.status_code == 400
    assert not inactive.response.has_header("Location")
    assert not AuthorizationCode.objects.exists()


def test_it_requires_a_nonce_and_refuses_one_used_before(client, cast, rekenrups):
    launch(client, cast, rekenrups)
    assert_refused(authorize(client, rekenrups, nonce=None), "invalid_request")
    used = sign_in(client, cast, rekenrups).authorization.params["nonce"]
    launch(client, cast, rekenrups)
    assert_refused(authorize(client, rekenrups, nonce=used), "invalid_request")
    assert AuthorizationCode.objects.count() == 1


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "code token"])
def test_it_refuses_response_types_other_than_code(launched, rekenrups, response_type):
    authorization = authorize(launched, rekenrups, response_type=response_type)
    assert_refused(authorization, "unsupported_response_type")
    assert not AuthorizationCode.objects.exists()
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "password", "username": "emma", "password": "2468"},
        {"grant_type": "client_credentials"},
        {"grant_type": "refresh_token", "refresh_token": "anything"},
    ],
    ids=["password", "client_credentials", "refresh_token"],
)
def test_it_refuses_other_grant_types_at_the_token_endpoint(rekenrups, form):
    response = Browser().post(
        reverse("oidc-token"),
        urlencode({**form, "scope": SCOPE}),
        content_type="application/x-www-form-urlencoded",
        secure=True,
        HTTP_AUTHORIZATION=basic_auth(rekenrups.client_id, rekenrups.secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert "access_token" not in response.json()
    assert not AccessToken.objects.exists()


def test_it_refuses_a_wrong_client_secret_without_spending_the_code(launched, rekenrups):
    authorization = authorize(launched, rekenrups)
    code = authorization.code
    response = exchange(rekenrups, code, authorization.verifier, secret="geraden-geheim")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "Basic" in response["WWW-Authenticate"]
    response = exchange(rekenrups, code, authorization.verifier, auth="post", secret="geraden")
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()
    # Someone without the secret cannot burn the publisher's code.
    assert exchange(rekenrups, code, authorization.verifier).status_code == 200


def test_it_refuses_an_inactive_client_at_the_token_endpoint(launched, rekenrups):
    authorization = authorize(launched, rekenrups)
    code = authorization.code
    Client.objects.filter(pk=rekenrups.client.pk).update(is_active=False)
    response = exchange(rekenrups, code, authorization.verifier)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_it_refuses_a_wrong_code_verifier(launched, rekenrups):
    authorization = authorize(launched, rekenrups)
    other_verifier = secrets.token_urlsafe(48)  # well formed, just not the one
    response = exchange(rekenrups, authorization.code, other_verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "access_token" not in response.json()
    assert not AccessToken.objects.exists()


def test_it_refuses_a_token_request_without_a_code_verifier(launched, rekenrups):
    authorization = authorize(launched, rekenrups)
    response = exchange(rekenrups, authorization.code, None)
    assert response.status_code == 400
    assert "access_token" not in response.json()
    assert not AccessToken.objects.exists()


def test_it_refuses_a_redirect_uri_at_the_token_endpoint_other_than_the_authorized_one(
    launched, rekenrups
):
    authorization = authorize(launched, rekenrups)
    other = rekenrups.client.redirect_uri_list[1]  # registered, but not the one used
    response = exchange(rekenrups, authorization.code, authorization.verifier, redirect_uri=other)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


# --- 7. codes -----------------------------------------------------------------------------


def test_it_revokes_the_tokens_of_a_code_used_twice(launched, rekenrups):
    authorization = authorize(launched, rekenrups)
    code = authorization.code
    first = exchange(rekenrups, code, authorization.verifier)
    assert first.status_code == 200
    access_token = first.json()["access_token"]
    assert userinfo(access_token).status_code == 200

    second = exchange(rekenrups, code, authorization.verifier)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert "access_token" not in second.json()
    # Whoever used the code first may have stolen it: what it gave no longer works.
    response = userinfo(access_token)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert AccessToken.objects.get().revoked_at is not None


@pytest.mark.parametrize(
    ("age", "status"),
    [(CODE_LIFETIME - timedelta(seconds=1), 200), (CODE_LIFETIME + timedelta(seconds=1), 400)],
    ids=["59s", "61s"],
)
def test_it_accepts_a_code_for_60_seconds_only(client, cast, rekenrups, time_machine, age, status):
    time_machine.move_to("2026-11-28 16:00 +01:00", tick=False)
    launch(client, cast, rekenrups)
    authorization = authorize(client, rekenrups)
    code = authorization.code
    time_machine.shift(age)
    response = exchange(rekenrups, code, authorization.verifier)
    assert response.status_code == status, response.content
    if status != 200:
        assert response.json()["error"] == "invalid_grant"
        assert not AccessToken.objects.exists()


@pytest.mark.parametrize("thief", ["other-publisher", "same-publisher"])
def test_it_redeems_a_code_only_for_the_client_it_was_issued_to(
    launched, cast, klimop, rekenrups, taaltuin, thief
):
    other = taaltuin if thief == "other-publisher" else register(cast.school_x, klimop, "Rups")
    authorization = authorize(launched, rekenrups)
    code = authorization.code
    for redirect_uri in (rekenrups.redirect_uri, other.redirect_uri):
        response = exchange(other, code, authorization.verifier, redirect_uri=redirect_uri)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


# --- 8. the hand-off ends the portal session ----------------------------------------------


def test_it_ends_the_portal_session_at_the_hand_off(launched, cast):
    assert launched.get(reverse("software"))["Location"] == reverse("home")
    # A sibling needs the parent's password again.
    response = launched.get(reverse("child-login", args=[cast.daan.code]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("home"))


def test_it_answers_only_one_authorization_per_launch(launched, rekenrups):
    first = authorize(launched, rekenrups)
    assert first.code
    second = authorize(launched, rekenrups)
    assert_refused(second, "login_required")
    assert AuthorizationCode.objects.count() == 1


def test_it_spends_the_ticket_only_on_the_launched_client(launched, rekenrups, taaltuin):
    elsewhere = authorize(launched, taaltuin)
    answer = elsewhere.answer
    assert "error" in answer
    assert "code" not in answer
    assert not AuthorizationCode.objects.exists()
    # The launched product's own client still gets its code.
    assert authorize(launched, rekenrups).code
    assert AuthorizationCode.objects.get().client == rekenrups.client


@pytest.mark.parametrize(
    ("wait", "signs_in"),
    [
        (LAUNCH_TICKET_LIFETIME - timedelta(seconds=1), True),
        (LAUNCH_TICKET_LIFETIME + timedelta(seconds=1), False),
    ],
    ids=["just-in-time", "too-late"],
)
def test_it_lets_the_launch_ticket_expire_after_2_minutes(
    client, cast, rekenrups, time_machine, wait, signs_in
):
    time_machine.move_to("2026-11-28 16:00 +01:00", tick=False)
    launch(client, cast, rekenrups)
    time_machine.shift(wait)
    authorization = authorize(client, rekenrups)
    if signs_in:
        assert authorization.code
    else:
        answer = authorization.answer
        assert "error" in answer and "code" not in answer
        assert not AuthorizationCode.objects.exists()


# --- 9. the licence is the consent --------------------------------------------------------


def _licence_ends_at_midnight(cast, product):
    expire_licence(product, date(2026, 11, 28))  # still valid today, gone after midnight


def _home_login_switched_off(cast, product):
    Pupil.objects.filter(pk=cast.emma.pk).update(home_login_enabled=False)


def _school_switches_home_login_off(cast, product):
    School.objects.filter(pk=cast.school_x.pk).update(home_login_allowed=False)


WITHDRAWALS = [_licence_ends_at_midnight, _home_login_switched_off, _school_switches_home_login_off]
BEFORE_MIDNIGHT = "2026-11-28 23:59:40 +01:00"
AFTER_MIDNIGHT = "2026-11-29 00:00:10 +01:00"  # within the ticket's 2 minutes and a code's 60 s


@pytest.mark.parametrize("withdraw", WITHDRAWALS, ids=["licence", "pupil", "school"])
def test_it_denies_access_when_the_consent_ended_between_launch_and_authorize(
    client, cast, rekenrups, time_machine, withdraw
):
    time_machine.move_to(BEFORE_MIDNIGHT, tick=False)
    launch(client, cast, rekenrups)
    withdraw(cast, rekenrups.product)
    time_machine.move_to(AFTER_MIDNIGHT, tick=False)
    authorization = authorize(client, rekenrups)
    assert_refused(authorization, "access_denied")
    assert not AuthorizationCode.objects.exists()


@pytest.mark.parametrize("withdraw", WITHDRAWALS, ids=["licence", "pupil", "school"])
def test_it_issues_no_token_when_the_consent_ended_between_authorize_and_token(
    client, cast, rekenrups, time_machine, withdraw
):
    time_machine.move_to(BEFORE_MIDNIGHT, tick=False)
    launch(client, cast, rekenrups)
    authorization = authorize(client, rekenrups)
    code = authorization.code
    withdraw(cast, rekenrups.product)
    time_machine.move_to(AFTER_MIDNIGHT, tick=False)
    response = exchange(rekenrups, code, authorization.verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "id_token" not in response.json()
    assert not AccessToken.objects.exists()


def test_it_still_signs_in_across_midnight_while_the_licence_runs(
    client, cast, rekenrups, time_machine
):
    """The control for the tests above: crossing midnight alone refuses nothing."""
    time_machine.move_to(BEFORE_MIDNIGHT, tick=False)
    launch(client, cast, rekenrups)
    expire_licence(rekenrups.product, date(2026, 11, 29))
    time_machine.move_to(AFTER_MIDNIGHT, tick=False)
    authorization = authorize(client, rekenrups)
    assert exchange(rekenrups, authorization.code, authorization.verifier).status_code == 200


# --- 10. a publisher asking directly ------------------------------------------------------


@pytest.mark.parametrize("session", ["nobody", "parent", "child-without-launch"])
def test_it_signs_nobody_in_without_a_launch(cast, rekenrups, session):
    browser = Browser()
    if session == "parent":
        browser.force_login(cast.parent_a)
    elif session == "child-without-launch":
        log_in_child(browser, cast)
    authorization = authorize(browser, rekenrups)
    assert_refused(authorization, "login_required")
    assert not AuthorizationCode.objects.exists()
    assert not LaunchEvent.objects.exists()
