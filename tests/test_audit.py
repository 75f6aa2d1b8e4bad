"""The audit log: which events are written, with what, at what cost, and who may read them."""

from __future__ import annotations

import io
import logging
import uuid
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.invitations import handle_password_requests, invite_staff, request_new_password
from accounts.models import User
from audit.models import AuditEvent, record
from launcher.models import Licence, Product, Publisher
from schools.models import CHILD_LOCK_AFTER, Pupil, StaffMembership, StaffRole
from tests.conftest import PASSWORD
from tests.helpers import (
    change_url,
    link_in,
    log_in,
    only_message_to,
    post_change,
    run_action,
    saved,
)
from tests.test_child_pages import tap_pin

pytestmark = pytest.mark.django_db

Kind = AuditEvent.Kind
#: Every column an event has: none of them can hold text, so none can hold a secret.
COLUMNS = {"code", "kind", "at", "school_id", "pupil_id", "user_id", "actor_id", "product_id"}
CHANGELIST = reverse("admin:audit_auditevent_changelist")


@pytest.fixture
def catalogue(cast):
    publisher = Publisher.objects.create(name="Uitgeverij Klimop")
    product = Product.objects.create(
        publisher=publisher, name="Rekenrups", launch_url="https://rekenrups.example.org/start"
    )
    Licence.objects.create(
        school=cast.school_x,
        product=product,
        valid_from=date(2000, 1, 1),
        valid_until=date(2100, 1, 1),
    )
    return product


@pytest.fixture
def parent(client, cast):
    client.force_login(cast.parent_a)
    return client


def only_event(**filters) -> AuditEvent:
    events = list(AuditEvent.objects.filter(**filters))
    assert len(events) == 1, [event.kind for event in events]
    return events[0]


def fields(event: AuditEvent) -> dict:
    return {
        "school": event.school_id,
        "pupil": event.pupil_id,
        "user": event.user_id,
        "actor": event.actor_id,
        "product": event.product_id,
    }


def audit_queries(queries) -> list[str]:
    return [query["sql"] for query in queries if "audit_auditevent" in query["sql"]]


def assert_no_secret_anywhere(*secrets: str) -> None:
    rows = list(AuditEvent.objects.values())
    assert rows
    for row in rows:
        assert set(row) == COLUMNS
        assert row["kind"] in Kind.values
        for name, value in row.items():
            assert value is None or isinstance(value, int | uuid.UUID | datetime | str), name
            if name != "at":  # a timestamp's digits may happen to match a PIN
                assert not any(secret in str(value) for secret in secrets), (name, value)


# --- parents logging in --------------------------------------------------------------------


def test_it_records_a_parent_login(client, cast, committed):
    with committed():
        response = log_in(client, "Ouder.A@example.com", PASSWORD)
    assert response.status_code == 302

    event = only_event(kind=Kind.LOGIN)
    assert fields(event) == {
        "school": None,
        "pupil": None,
        "user": cast.parent_a.pk,
        "actor": None,
        "product": None,
    }
    assert abs(event.at - timezone.now()) < timedelta(seconds=5)
    assert_no_secret_anywhere(PASSWORD, client.session.session_key)


def test_it_records_a_failed_login_with_the_account_but_not_what_was_typed(client, cast, committed):
    with committed():
        log_in(client, cast.parent_a.email, "verkeerd-wachtwoord-42")
        log_in(client, "onbekend@example.com", "verkeerd-wachtwoord-43")

    events = AuditEvent.objects.filter(kind=Kind.LOGIN_FAILED).order_by("at")
    assert [event.user_id for event in events] == [cast.parent_a.pk, None]
    assert not AuditEvent.objects.filter(kind=Kind.LOGIN).exists()
    assert_no_secret_anywhere("verkeerd-wachtwoord", "onbekend@example.com")


def test_a_failed_staff_login_in_admin_is_recorded_too(client, cast, committed):
    with committed():
        client.post(
            reverse("admin:login"), {"username": cast.teacher_x.email, "password": "fout-123456"}
        )
    assert only_event(kind=Kind.LOGIN_FAILED).user_id == cast.teacher_x.pk


def test_an_event_costs_one_insert_and_nothing_else(client, cast, committed):
    log_in(client, cast.parent_a.email, "verkeerd-wachtwoord-42")  # the throttle's row exists
    with CaptureQueriesContext(connection) as without_log:
        log_in(client, cast.parent_a.email, "verkeerd-wachtwoord-42")  # the event waits
    with CaptureQueriesContext(connection) as with_log, committed():
        log_in(client, cast.parent_a.email, "verkeerd-wachtwoord-42")

    assert len(with_log.captured_queries) == len(without_log.captured_queries) + 1
    (insert,) = audit_queries(with_log.captured_queries)
    assert insert.startswith("INSERT")


def test_pages_that_are_not_events_never_touch_the_log(parent, cast, catalogue, committed):
    with CaptureQueriesContext(connection) as queries, committed():
        assert parent.get(reverse("children")).status_code == 200
        assert parent.get(reverse("child-login", args=[cast.emma.code])).status_code == 200
        tap_pin(parent, cast.emma, "2468")  # a correct PIN is not an event
        assert parent.get(reverse("software")).status_code == 200
    assert audit_queries(queries.captured_queries) == []
    assert not AuditEvent.objects.exists()


def test_an_event_that_cannot_be_written_never_breaks_the_login(
    client, cast, committed, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise DatabaseError("the log table is gone")

    monkeypatch.setattr(AuditEvent, "save", broken)
    with caplog.at_level(logging.ERROR, logger="audit.models"), committed():
        response = log_in(client, cast.parent_a.email, PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("children")
    assert client.get(reverse("children")).status_code == 200
    assert "could not be written" in caplog.text


def test_an_action_that_is_rolled_back_leaves_no_event(cast, committed):
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        record(Kind.PARENT_ADDED, pupil=cast.emma, user=cast.parent_a, actor=cast.teacher_x)
        raise RuntimeError
    assert not AuditEvent.objects.exists()


# --- children: PIN, pictures, locks, launches ----------------------------------------------


def test_it_records_a_wrong_pin_with_the_child_the_parent_and_the_school(parent, cast, committed):
    with committed():
        tap_pin(parent, cast.emma, "1357")

    event = only_event(kind=Kind.CHILD_LOGIN_FAILED)
    assert fields(event) == {
        "school": cast.school_x.pk,
        "pupil": cast.emma.pk,
        "user": cast.parent_a.pk,
        "actor": None,
        "product": None,
    }
    assert_no_secret_anywhere("1357", "2468", cast.emma.pin_hash)


def test_it_records_wrong_pictures_too(parent, cast, committed):
    Pupil.objects.filter(pk=cast.daan.pk).update(home_login_enabled=True)
    url = reverse("child-login", args=[cast.daan.code])
    with committed():
        parent.post(url, {"entered": "kat", "key": "maan"})
    assert only_event(kind=Kind.CHILD_LOGIN_FAILED).pupil_id == cast.daan.pk


def test_it_records_the_lock_once_and_not_every_try_after_it(parent, cast, committed):
    long_ago = timezone.now() - timedelta(hours=1)
    Pupil.objects.filter(pk=cast.emma.pk).update(
        failed_attempts=CHILD_LOCK_AFTER - 1, last_failed_at=long_ago
    )
    with committed():
        tap_pin(parent, cast.emma, "1357")
    assert Pupil.objects.get(pk=cast.emma.pk).is_locked
    event = only_event(kind=Kind.CHILD_LOCKED)
    assert (event.pupil_id, event.user_id) == (cast.emma.pk, cast.parent_a.pk)
    assert not AuditEvent.objects.filter(kind=Kind.CHILD_LOGIN_FAILED).exists()

    with committed():
        tap_pin(parent, cast.emma, "2468")  # even the right PIN: still locked
    assert AuditEvent.objects.count() == 1


def test_it_records_who_unlocked_a_child(teacher, cast, committed):
    Pupil.objects.filter(pk=cast.emma.pk).update(
        failed_attempts=CHILD_LOCK_AFTER, locked_at=timezone.now(), last_failed_at=timezone.now()
    )
    with committed():
        run_action(teacher, "unlock", [cast.emma, cast.daan])  # Daan was not locked

    event = only_event(kind=Kind.CHILD_UNLOCKED)
    assert fields(event) == {
        "school": cast.school_x.pk,
        "pupil": cast.emma.pk,
        "user": None,
        "actor": cast.teacher_x.pk,
        "product": None,
    }


def test_it_records_a_launch(parent, cast, catalogue, committed):
    tap_pin(parent, cast.emma, "2468")
    with committed():
        parent.post(reverse("launch", args=[catalogue.code]))

    event = only_event(kind=Kind.LAUNCH)
    assert fields(event) == {
        "school": cast.school_x.pk,
        "pupil": cast.emma.pk,
        "user": cast.parent_a.pk,
        "actor": None,
        "product": catalogue.pk,
    }


# --- addresses and invitations -------------------------------------------------------------


def test_it_records_a_new_address_and_the_invitation_without_the_link(teacher, cast, committed):
    with committed():
        assert saved(post_change(teacher, cast.emma, parent_email_2="tweede@example.com"))

    new_parent = User.objects.get(email="tweede@example.com")
    added = only_event(kind=Kind.PARENT_ADDED)
    assert fields(added) == {
        "school": cast.school_x.pk,
        "pupil": cast.emma.pk,
        "user": new_parent.pk,
        "actor": cast.teacher_x.pk,
        "product": None,
    }
    invited = only_event(kind=Kind.INVITATION_SENT)
    assert (invited.pupil_id, invited.user_id) == (cast.emma.pk, new_parent.pk)
    token = link_in(only_message_to("tweede@example.com").message).rstrip("/").rsplit("/", 1)[1]
    assert_no_secret_anywhere(token, "tweede@example.com")


def test_it_records_a_removed_address(teacher, cast, committed):
    with committed():
        assert saved(post_change(teacher, cast.emma, parent_email_1=""))

    removed = only_event(kind=Kind.PARENT_REMOVED)
    assert (removed.pupil_id, removed.user_id, removed.actor_id) == (
        cast.emma.pk,
        cast.parent_a.pk,
        cast.teacher_x.pk,
    )
    assert not AuditEvent.objects.filter(kind=Kind.PARENT_ADDED).exists()


def test_saving_a_pupil_without_changing_addresses_records_nothing(teacher, cast, committed):
    with committed():
        assert saved(post_change(teacher, cast.emma, first_name="Emmy"))
    assert not AuditEvent.objects.exists()


def test_it_records_a_staff_invitation_at_the_school(cast, committed):
    newcomer = User.objects.for_email("nieuwe.juf@regenboog.nl")
    membership = StaffMembership.objects.create(
        user=newcomer, school=cast.school_x, role=StaffRole.TEACHER
    )
    with committed():
        invite_staff(membership)
    event = only_event(kind=Kind.INVITATION_SENT)
    assert (event.user_id, event.school_id, event.pupil_id) == (newcomer.pk, cast.school_x.pk, None)


def test_it_records_a_link_for_a_forgotten_password_only_for_a_known_address(cast, committed):
    with committed():
        request_new_password(cast.parent_a.email)
        request_new_password("onbekend@example.com")
        handle_password_requests()
    event = only_event(kind=Kind.RESET_LINK_SENT)
    assert (event.user_id, event.school_id) == (cast.parent_a.pk, None)


# --- the log in admin ----------------------------------------------------------------------


@pytest.fixture
def events(cast):
    make = AuditEvent.objects.create
    return {
        "emma": make(kind=Kind.CHILD_LOGIN_FAILED, school=cast.school_x, pupil=cast.emma),
        "lotte": make(kind=Kind.CHILD_LOCKED, school=cast.school_x, pupil=cast.lotte),
        "staff_x": make(kind=Kind.INVITATION_SENT, school=cast.school_x, user=cast.teacher_x),
        "yara": make(kind=Kind.CHILD_LOGIN_FAILED, school=cast.school_y, pupil=cast.yara),
        "login": make(kind=Kind.LOGIN, user=cast.parent_a),
    }


def listed(client) -> set[int]:
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    return {event.pk for event in response.context["cl"].result_list}


def ids(events: dict, *names: str) -> set[int]:
    return {events[name].pk for name in names}


def test_operators_see_every_event(client, cast, events):
    client.force_login(cast.superuser)
    assert listed(client) == ids(events, *events)


def test_a_schools_managers_see_only_their_schools_events(client, cast, events):
    client.force_login(cast.ict_x)
    assert listed(client) == ids(events, "emma", "lotte", "staff_x")


def test_a_teacher_sees_only_events_about_the_pupils_of_their_groups(client, cast, events):
    client.force_login(cast.teacher_x)
    assert listed(client) == ids(events, "emma")
    client.force_login(cast.teacher_y)
    assert listed(client) == ids(events, "yara")


def test_an_event_outside_the_scope_does_not_exist(client, cast, events):
    client.force_login(cast.teacher_y)
    assert client.get(change_url(events["emma"])).status_code == 404
    client.force_login(cast.teacher_x)
    assert client.get(change_url(events["emma"])).status_code == 200


def test_it_is_read_only_for_everyone(client, cast, events):
    client.force_login(cast.superuser)
    event = events["emma"]
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    client.post(change_url(event), {"kind": Kind.LOGIN})
    assert AuditEvent.objects.get(pk=event.pk).kind == Kind.CHILD_LOGIN_FAILED
    assert 'name="_save"' not in client.get(change_url(event)).content.decode()


def test_parents_never_see_the_log(client, cast, events):
    client.force_login(cast.parent_a)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- retention -----------------------------------------------------------------------------


def purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_left_pupils", *args, stdout=out)
    return out.getvalue()


def test_events_are_deleted_after_the_retention_period(cast, settings, time_machine):
    settings.AUDIT_RETENTION_DAYS = 365
    now = timezone.now()
    old = AuditEvent.objects.create(kind=Kind.LOGIN, user=cast.parent_a, at=now - timedelta(366))
    kept = AuditEvent.objects.create(kind=Kind.LOGIN, user=cast.parent_a, at=now - timedelta(364))

    assert "1 gebeurtenissen uit het logboek zouden verwijderd worden." in purge("--dry-run")
    assert AuditEvent.objects.filter(pk=old.pk).exists()
    assert "1 gebeurtenissen uit het logboek verwijderd (ouder dan 365 dagen)." in purge()
    assert list(AuditEvent.objects.all()) == [kept]

    settings.AUDIT_RETENTION_DAYS = 30
    purge()
    assert not AuditEvent.objects.exists()
