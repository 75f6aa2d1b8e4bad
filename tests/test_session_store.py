"""The session store's single-statement reads and writes (basispoort/sessions.py), and the
per-request user lookup (accounts/backends.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.models import Session
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.backends import AccountBackend
from accounts.models import User
from basispoort.sessions import SessionStore
from tests.conftest import PASSWORD
from tests.helpers import log_in

pytestmark = pytest.mark.django_db


def saved_session(**data) -> SessionStore:
    store = SessionStore()
    store.update(data)
    store.save()
    return store


def row(key: str) -> Session | None:
    return Session.objects.filter(session_key=key).first()


def test_the_project_uses_this_store():
    assert settings.SESSION_ENGINE == "basispoort.sessions"


# --- load() ---------------------------------------------------------------------------------


def test_load_of_a_valid_key_gives_its_data():
    key = saved_session(child="abc", seen=1764300000.5, launched=["x", 2]).session_key

    store = SessionStore(key)
    assert store.load() == {"child": "abc", "seen": 1764300000.5, "launched": ["x", 2]}
    assert store.session_key == key
    assert SessionStore(key)["child"] == "abc"


def test_load_of_an_expired_session_gives_nothing_and_drops_the_key():
    key = saved_session(child="abc").session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None
    assert "child" not in SessionStore(key)


def test_load_of_an_unknown_key_gives_nothing_and_drops_the_key():
    store = SessionStore("x" * 32)
    assert store.load() == {}
    assert store.session_key is None


def test_an_expired_session_is_not_written_again_under_its_old_key():
    key = saved_session(child="abc").session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    store = SessionStore(key)
    store["other"] = 1
    store.save()

    assert store.session_key != key
    assert row(key).get_decoded() == {"child": "abc"}
    assert row(store.session_key).get_decoded() == {"other": 1}


# --- save() ---------------------------------------------------------------------------------


def test_save_of_a_new_session_writes_one_row_with_its_expiry():
    store = SessionStore()
    store["child"] = "abc"
    store.set_expiry(600)
    before = timezone.now()
    store.save()

    assert len(store.session_key) == 32
    saved = row(store.session_key)
    assert saved.get_decoded() == {"child": "abc", "_session_expiry": 600}
    assert before + timedelta(seconds=599) <= saved.expire_date
    assert saved.expire_date <= timezone.now() + timedelta(seconds=601)


def test_save_of_a_known_session_updates_its_row():
    store = saved_session(child="abc")
    key = store.session_key
    store["seen"] = 5
    store.set_expiry(60)
    store.save()

    assert store.session_key == key
    assert Session.objects.count() == 1
    saved = row(key)
    assert saved.get_decoded() == {"child": "abc", "seen": 5, "_session_expiry": 60}
    assert saved.expire_date <= timezone.now() + timedelta(seconds=61)


def test_save_of_a_session_deleted_meanwhile_raises_update_error_and_writes_nothing():
    store = saved_session(child="abc")
    key = store.session_key
    store["seen"] = 5
    SessionStore(key).delete()  # logged out in another tab

    with pytest.raises(UpdateError):
        store.save()
    assert row(key) is None
    assert not Session.objects.exists()


def create_again(key: str) -> None:
    """Another store tries to create a session under a key that is taken: CreateError."""
    intruder = SessionStore(key)
    intruder._session_cache = {"child": "other"}
    with pytest.raises(CreateError):
        intruder.save(must_create=True)


def test_save_with_must_create_and_a_taken_key_raises_create_error():
    key = saved_session(child="abc").session_key
    create_again(key)
    assert row(key).get_decoded() == {"child": "abc"}


def test_a_create_error_inside_a_transaction_leaves_the_transaction_usable():
    key = saved_session(child="abc").session_key
    with transaction.atomic():
        user = User.objects.create_user("nieuw@example.com", PASSWORD)
        create_again(key)
        # On PostgreSQL a failed statement without a savepoint aborts the whole transaction.
        assert User.objects.filter(email="nieuw@example.com").exists()
        user.name = "Nieuw"
        user.save()
    assert User.objects.get(pk=user.pk).name == "Nieuw"
    assert row(key).get_decoded() == {"child": "abc"}


def test_create_draws_another_key_when_the_first_is_taken(monkeypatch):
    taken = saved_session(child="abc").session_key
    fresh = "f" * 32
    keys = iter([taken, fresh])
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(keys))

    with transaction.atomic():
        store = SessionStore()
        store["child"] = "new"
        store.save()
        assert Session.objects.count() == 2

    assert store.session_key == fresh
    assert row(taken).get_decoded() == {"child": "abc"}
    assert row(fresh).get_decoded() == {"child": "new"}


@pytest.mark.django_db(transaction=True)
def test_a_create_error_outside_a_transaction_leaves_the_connection_usable(monkeypatch):
    """Without an atomic block there is no savepoint: the INSERT is its own transaction."""
    taken = saved_session(child="abc").session_key
    create_again(taken)
    assert row(taken).get_decoded() == {"child": "abc"}

    keys = iter([taken, "g" * 32])
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(keys))
    store = SessionStore()
    store["child"] = "new"
    store.save()
    assert store.session_key == "g" * 32
    assert row("g" * 32).get_decoded() == {"child": "new"}


# --- cycle_key() and delete() ---------------------------------------------------------------


def test_cycle_key_keeps_the_data_under_a_new_key_and_removes_the_old_row():
    store = saved_session(child="abc")
    old = store.session_key

    store.cycle_key()
    assert row(old) is None
    store.save()

    assert store.session_key not in (None, old)
    assert row(store.session_key).get_decoded() == {"child": "abc"}
    assert Session.objects.count() == 1


def test_delete_removes_the_row():
    keep = saved_session(child="keep").session_key
    store = saved_session(child="abc")
    key = store.session_key

    store.delete()
    assert row(key) is None
    SessionStore().delete()  # no key: nothing to do
    assert row(keep).get_decoded() == {"child": "keep"}


# --- through the middleware -----------------------------------------------------------------


def test_a_logged_in_request_goes_through_the_session_store(client, cast):
    response = log_in(client, cast.parent_a.email, PASSWORD)
    assert response.status_code == 302
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert int(row(key).get_decoded()[SESSION_KEY]) == cast.parent_a.pk

    response = client.get(reverse("children"))
    assert response.status_code == 200
    assert response.wsgi_request.user == cast.parent_a
    assert isinstance(response.wsgi_request.session, SessionStore)
    assert response.wsgi_request.session.session_key == key


def test_a_logged_in_request_with_an_expired_session_is_anonymous(client, cast):
    client.force_login(cast.parent_a)
    assert client.get(reverse("children")).status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    response = client.get(reverse("children"))
    assert response.status_code == 302
    assert response.wsgi_request.user.is_anonymous


def test_logging_in_replaces_the_anonymous_session_row(client, cast):
    client.get(reverse("home"))
    session = client.session
    session["before_login"] = True
    session.save()
    before = session.session_key

    log_in(client, cast.parent_a.email, PASSWORD)

    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert row(before) is None
    assert row(after).get_decoded()["before_login"] is True


# --- AccountBackend.get_user() --------------------------------------------------------------


def test_get_user_gives_an_active_user(cast):
    found = AccountBackend().get_user(cast.parent_a.pk)
    assert found == cast.parent_a
    assert found.email == cast.parent_a.email
    assert found.password == cast.parent_a.password
    assert AccountBackend().get_user(str(cast.parent_a.pk)) == cast.parent_a


def test_get_user_gives_none_for_an_inactive_user(cast):
    User.objects.filter(pk=cast.parent_a.pk).update(is_active=False)
    assert AccountBackend().get_user(cast.parent_a.pk) is None
    assert AccountBackend().get_user(cast.parent_b.pk) == cast.parent_b


def test_get_user_gives_none_for_an_unknown_id(cast):
    highest = User.objects.order_by("-pk").first().pk
    assert AccountBackend().get_user(highest + 1) is None


@pytest.mark.parametrize("junk", ["junk", "", None, "1; DROP TABLE accounts_user", "1.5"])
def test_get_user_gives_none_for_a_junk_id(cast, junk):
    assert AccountBackend().get_user(junk) is None
    assert User.objects.filter(pk=cast.parent_a.pk).exists()
