"""The publishers' clients in admin: registering one, its secret shown once, rotation, launches.

Only the portal's operators (superusers) manage clients; school staff never see them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from launcher.models import LaunchEvent, Product, Publisher
from sso.models import Client, Scope, digest
from tests.helpers import change_url, errors, html, run_action

pytestmark = pytest.mark.django_db

CLIENT_ADD = reverse("admin:sso_client_add")
CLIENT_CHANGELIST = reverse("admin:sso_client_changelist")
NOW = "2026-03-02 10:00 +01:00"


@pytest.fixture
def publisher(db) -> Publisher:
    return Publisher.objects.create(name="Uitgeverij Klimop")


@pytest.fixture
def operator(client, cast):
    client.force_login(cast.superuser)
    return client


@pytest.fixture
def registered(publisher) -> tuple[Client, str]:
    """A client as admin would have made it, and its secret in clear."""
    found = Client(
        publisher=publisher,
        name="Rekenrups",
        redirect_uris="https://rekenrups.example.org/callback",
        initiate_login_uri="https://rekenrups.example.org/login",
        scopes="profile",
    )
    secret = found.new_secret()
    found.save()
    return found, secret


def add_form(publisher, **changes) -> dict:
    data = {
        "publisher": str(publisher.pk),
        "name": "Rekenrups",
        "redirect_uris": "https://rekenrups.example.org/callback\nhttp://127.0.0.1:8001/callback",
        "initiate_login_uri": "https://rekenrups.example.org/login",
        "scope_choices": [Scope.PROFILE, Scope.SCHOOL],
        "is_active": "on",
    }
    data.update(changes)
    return data


def shown_secret(response) -> str:
    assert response.status_code == 200
    assert response.templates[0].name == "admin/sso/client/secret.html"
    assert "no-store" in response["Cache-Control"].replace(" ", "").split(",")
    secret = response.context["secret"]
    assert secret and html(response).count(secret) == 1
    return secret


def fresh(client: Client) -> Client:
    return Client.objects.get(pk=client.pk)


# --- registering a client ------------------------------------------------------------------


def test_an_operator_registers_a_client_and_sees_its_secret_once(operator, publisher):
    response = operator.post(CLIENT_ADD, add_form(publisher))
    secret = shown_secret(response)
    registered = Client.objects.get()
    assert registered.client_id in html(response)
    assert registered.publisher == publisher and registered.is_active
    assert registered.redirect_uri_list == [
        "https://rekenrups.example.org/callback",
        "http://127.0.0.1:8001/callback",
    ]
    assert registered.scope_list == ["profile", "school"]
    # Only a digest is kept, and the secret shown is the one that works.
    assert registered.secret_digest == digest(secret) != secret
    assert secret not in str(Client.objects.filter(pk=registered.pk).values().get())
    assert registered.check_client_secret(secret)
    assert not registered.check_client_secret(secret + "x")
    assert not registered.check_client_secret("")
    # Not shown again: the change page and the list do not have it.
    change = operator.get(change_url(registered))
    assert change.status_code == 200
    assert registered.client_id in html(change)
    assert secret not in html(change)
    listing = html(operator.get(CLIENT_CHANGELIST))
    assert registered.client_id in listing and secret not in listing
    assert CLIENT_CHANGELIST in html(operator.get(reverse("admin:index")))


@pytest.mark.parametrize(
    "redirect_uris",
    [
        "http://rekenrups.example.org/callback",
        "https://rekenrups.example.org/callback#fragment",
        "https://rekenrups.example.org/callback\nhttp://rekenrups.example.org/callback",
        "  \n ",
    ],
    ids=["http-public-host", "fragment", "one-of-two", "none"],
)
def test_it_refuses_unsafe_redirect_uris(operator, publisher, redirect_uris):
    response = operator.post(CLIENT_ADD, add_form(publisher, redirect_uris=redirect_uris))
    found = errors(response)
    assert list(found) == ["redirect_uris"]
    assert found["redirect_uris"]  # a message says what is wrong
    if redirect_uris.strip():
        assert all("geen geldig https-adres" in message for message in found["redirect_uris"])
    assert "secret" not in response.context
    assert not Client.objects.exists()


def test_it_refuses_an_insecure_initiate_login_uri(operator, publisher):
    data = add_form(publisher, initiate_login_uri="http://rekenrups.example.org/login")
    found = errors(operator.post(CLIENT_ADD, data))
    assert "initiate_login_uri" in found
    assert not Client.objects.exists()


# --- rotating the secret -------------------------------------------------------------------


def test_rotating_shows_a_new_secret_and_keeps_the_old_one_for_a_week(
    operator, registered, time_machine
):
    client, old = registered
    time_machine.move_to(NOW, tick=False)
    response = run_action(operator, "rotate_secret", [client], CLIENT_CHANGELIST)
    new = shown_secret(response)
    assert new != old
    rotated = fresh(client)
    assert rotated.client_id == client.client_id
    assert rotated.secret_digest == digest(new)
    assert rotated.check_client_secret(new)
    assert rotated.check_client_secret(old)

    time_machine.shift(timedelta(days=7) - timedelta(seconds=1))
    assert rotated.check_client_secret(old)
    time_machine.shift(timedelta(seconds=2))
    assert not rotated.check_client_secret(old)
    assert rotated.check_client_secret(new)


def test_rotating_refuses_more_than_one_client(operator, registered, publisher):
    client, secret = registered
    other = Client(
        publisher=publisher,
        name="Taaltuin",
        redirect_uris="https://taaltuin.example.org/callback",
        initiate_login_uri="https://taaltuin.example.org/login",
    )
    other.new_secret()
    other.save()
    before = {found.pk: found.secret_digest for found in Client.objects.all()}

    response = run_action(operator, "rotate_secret", [client, other], CLIENT_CHANGELIST)
    assert response.status_code == 302  # back to the list, with a message
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Kies precies één koppeling."
    ]
    assert {found.pk: found.secret_digest for found in Client.objects.all()} == before
    assert not fresh(client).previous_secret_digest
    assert fresh(client).check_client_secret(secret)


# --- who may see clients -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ict_x", "admin_x", "teacher_x"])
def test_school_staff_cannot_see_or_rotate_clients(client, cast, registered, who):
    found, secret = registered
    client.force_login(getattr(cast, who))
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200  # they do have an admin, without the clients in it
    assert CLIENT_CHANGELIST not in html(index)

    listing = client.get(CLIENT_CHANGELIST)
    assert listing.status_code in {302, 403, 404}
    assert found.client_id not in html(listing)
    for url in (change_url(found), CLIENT_ADD):
        response = client.get(url)
        assert response.status_code in {302, 403, 404}
        assert found.client_id not in html(response)

    # Neither the add form nor the action gets them to a secret page.
    for response in (
        client.post(CLIENT_ADD, add_form(found.publisher, name="Nep")),
        run_action(client, "rotate_secret", [found], CLIENT_CHANGELIST),
    ):
        assert response.status_code in {302, 403, 404}
        assert "client_secret" not in html(response)
    assert Client.objects.count() == 1
    assert fresh(found).secret_digest == found.secret_digest
    assert not fresh(found).previous_secret_digest
    assert fresh(found).check_client_secret(secret)


# --- launches on the change page -----------------------------------------------------------


def test_the_change_page_lists_recent_launches(operator, cast, registered):
    found, _secret = registered
    linked = Product.objects.create(
        publisher=found.publisher,
        name="Rekenrups",
        launch_url="https://rekenrups.example.org/start",
        client=found,
    )
    unlinked = Product.objects.create(
        publisher=found.publisher,
        name="Woordwolk",
        launch_url="https://woordwolk.example.org/start",
    )
    LaunchEvent.objects.create(pupil=cast.emma, product=linked)
    LaunchEvent.objects.create(pupil=cast.yara, product=linked)
    LaunchEvent.objects.create(pupil=cast.lotte, product=unlinked)

    page = html(operator.get(change_url(found)))
    assert "Recente starts" in page
    assert page.count("· Rekenrups ·") == 2
    assert cast.school_x.name in page and cast.school_y.name in page
    assert "Woordwolk" not in page
    assert "Nog geen starts." not in page


def test_the_change_page_says_when_there_are_no_launches(operator, registered):
    found, _secret = registered
    assert "Nog geen starts." in html(operator.get(change_url(found)))
