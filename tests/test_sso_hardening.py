"""Single sign-on under pressure: races, a second login, keys published ahead, leaked secrets."""

# ruff: noqa: F811 (the fixtures come from tests/test_sso.py)

from __future__ import annotations

from importlib import import_module

import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import IntegrityError, transaction
from django.test import Client as Browser
from django.urls import reverse

from launcher.models import Product
from schools.models import Pupil
from sso import keys
from sso import launch as hand_off
from sso.models import AuthorizationCode, LaunchTicket
from tests.helpers import change_url, fresh, run_action
from tests.test_sso import (  # noqa: F401 (fixtures)
    authorize,
    exchange,
    kid_of,
    klimop,
    launch,
    oidc,
    pem,
    published_jwks,
    rekenrups,
    sign_in,
    userinfo,
)
from tests.test_sso_admin import CLIENT_CHANGELIST, shown_secret

pytestmark = pytest.mark.django_db


def test_it_links_a_client_to_one_product_only(rekenrups):
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(
            publisher=rekenrups.product.publisher,
            name="Rekenrups Plus",
            launch_url="https://rekenrups.example.org/plus",
            client=rekenrups.client,
        )


def test_it_voids_tokens_of_a_code_tried_again_while_the_first_exchange_ran(
    client, cast, rekenrups
):
    signed_in = sign_in(client, cast, rekenrups)
    token = signed_in.tokens["access_token"]
    assert userinfo(token).status_code == 200
    # The second try lost the race: it marked the code before the first token was saved.
    AuthorizationCode.objects.update(reused_at="2026-01-01T00:00Z")
    assert userinfo(token).status_code == 401


def test_it_spends_a_ticket_once_even_for_two_requests_at_the_same_moment(client, cast, rekenrups):
    launch(client, cast, rekenrups)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    engine = import_module(settings.SESSION_ENGINE)

    class Request:  # two requests carrying the same cookie, read before either wrote
        def __init__(self):
            self.session = engine.SessionStore(session_key)

    first, second = Request(), Request()
    assert hand_off.has_ticket(first) and hand_off.has_ticket(second)
    assert hand_off.take_ticket(first, rekenrups.client_id) is not None
    assert hand_off.take_ticket(second, rekenrups.client_id) is None
    assert LaunchTicket.objects.filter(spent_at__isnull=False).count() == 1


def test_it_drops_the_ticket_when_a_parent_logs_in_again(client, cast, rekenrups):
    from tests.conftest import PASSWORD

    launch(client, cast, rekenrups)
    response = client.post(reverse("home"), {"username": cast.parent_a.email, "password": PASSWORD})
    assert response.status_code == 302
    answer = authorize(client, rekenrups).answer
    assert answer["error"] == "login_required"
    assert "code" not in answer


def test_it_names_itself_in_every_answer_to_the_redirect_uri(client, cast, rekenrups):
    launch(client, cast, rekenrups)
    granted = authorize(client, rekenrups).answer
    refused = authorize(client, rekenrups).answer  # the ticket is spent: login_required
    assert granted["iss"] == refused["iss"] == settings.SITE_URL
    assert refused["error"] == "login_required"
    discovery = Browser().get(reverse("oidc-discovery")).json()
    assert discovery["authorization_response_iss_parameter_supported"] is True


def test_it_answers_userinfo_only_while_the_pupil_may_use_the_product(client, cast, rekenrups):
    token = sign_in(client, cast, rekenrups).tokens["access_token"]
    Pupil.objects.filter(pk=cast.emma.pk).update(home_login_enabled=False)
    assert userinfo(token).status_code == 401
    Pupil.objects.filter(pk=cast.emma.pk).update(home_login_enabled=True)
    assert userinfo(token).status_code == 200
    rekenrups.client.is_active = False
    rekenrups.client.save()
    assert userinfo(token).status_code == 401


def test_it_refuses_the_authorization_endpoint_by_post(client, cast, rekenrups):
    launch(client, cast, rekenrups)
    response = client.post(reverse("oidc-authorize"), {"client_id": rekenrups.client_id})
    assert response.status_code == 405


def test_it_publishes_the_next_key_before_it_signs(oidc, client, cast, rekenrups):
    public_only = (
        serialization.load_pem_private_key(pem(1).encode(), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    oidc.OIDC_NEXT_SIGNING_KEYS = [public_only]
    keys.forget()
    published = [key["kid"] for key in published_jwks()["keys"]]
    assert published == [kid_of(pem(0)), kid_of(pem(1))]
    assert sign_in(client, cast, rekenrups).header["kid"] == kid_of(pem(0))


def test_it_cuts_off_a_leaked_secret_at_once(client, cast, rekenrups):
    client.force_login(cast.superuser)
    response = run_action(client, "replace_secret_now", [rekenrups.client], CLIENT_CHANGELIST)
    new = shown_secret(response)
    stored = fresh(rekenrups.client)
    assert stored.check_client_secret(new)
    assert not stored.check_client_secret(rekenrups.secret)


def test_it_keeps_a_clients_publisher_once_pupils_have_a_pseudonym_there(client, cast, rekenrups):
    client.force_login(cast.superuser)
    page = client.get(change_url(rekenrups.client)).content.decode()
    assert 'name="publisher"' not in page
    assert 'name="redirect_uris"' in page
