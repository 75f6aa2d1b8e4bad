"""What goes when a pupil goes, parent accounts without children, and a pupil's data export."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import ParentLink, PasswordLink, User
from accounts.parents import set_parent_emails
from audit.models import AuditEvent, OrphanedAccount
from launcher.models import LaunchEvent, Product, Publisher
from schools.imports.run import run_import
from schools.models import ImportLog, Pupil
from sso.models import AccessToken, AuthorizationCode, LaunchTicket, Pseudonym
from tests.conftest import PASSWORD
from tests.helpers import delete_url, fresh, log_in, post_change, queued_to, saved
from tests.test_child_pages import tap_pin
from tests.test_sso import register

pytestmark = pytest.mark.django_db

Kind = AuditEvent.Kind
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


@pytest.fixture
def catalogue(cast):
    publisher = Publisher.objects.create(name="Uitgeverij Klimop")
    product = register(cast.school_x, publisher, "Rekenrups").product
    return product


def give_history(pupil: Pupil, product: Product) -> None:
    """A photo on storage and everything a launch with sign-on leaves behind."""
    pupil.avatar.save("foto.jpg", ContentFile(b"jpeg"))
    now = timezone.now()
    LaunchEvent.objects.create(pupil=pupil, product=product)
    Pseudonym.of(pupil, product.publisher)
    code = AuthorizationCode.objects.create(
        digest=f"code-{pupil.pk}".ljust(64, "0"),
        client=product.client,
        pupil=pupil,
        product=product,
        redirect_uri="https://rekenrups.example.org/callback",
        scope="openid",
        code_challenge="x" * 43,
        code_challenge_method="S256",
    )
    AccessToken.objects.create(
        digest=f"token-{pupil.pk}".ljust(64, "1"),
        client=product.client,
        pupil=pupil,
        authorization_code=code,
        scope="openid",
        expires_at=now + timedelta(minutes=5),
    )
    LaunchTicket.objects.create(
        pupil=pupil, product=product, client=product.client, expires_at=now + timedelta(minutes=2)
    )
    AuditEvent.objects.create(kind=Kind.LAUNCH, pupil=pupil, school=pupil.school, product=product)


def left_behind(pupil: Pupil) -> dict[str, int]:
    """What the database still holds that points at the pupil (all zero once it is gone)."""
    return {
        "links": ParentLink.objects.filter(pupil=pupil.pk).count(),
        "launches": LaunchEvent.objects.filter(pupil=pupil.pk).count(),
        "pseudonyms": Pseudonym.objects.filter(pupil=pupil.pk).count(),
        "codes": AuthorizationCode.objects.filter(pupil=pupil.pk).count(),
        "tokens": AccessToken.objects.filter(pupil=pupil.pk).count(),
        "tickets": LaunchTicket.objects.filter(pupil=pupil.pk).count(),
        # A deleted pupil's own events are gone, not only unlinked (give_history made one).
        "events": AuditEvent.objects.filter(kind=Kind.LAUNCH).count(),
    }


NOTHING = dict.fromkeys(
    ("links", "launches", "pseudonyms", "codes", "tokens", "tickets", "events"), 0
)


def purge() -> str:
    out = io.StringIO()
    call_command("purge_left_pupils", stdout=out)
    return out.getvalue()


# --- deleting a pupil ----------------------------------------------------------------------


def test_deleting_a_pupil_in_admin_removes_links_photo_and_launch_history(
    client, cast, catalogue, committed
):
    with committed():
        give_history(cast.emma, catalogue)
    photo = fresh(cast.emma).avatar
    assert photo.storage.exists(photo.name)
    assert left_behind(cast.emma) != NOTHING
    client.force_login(cast.ict_x)

    with committed():
        response = client.post(delete_url(cast.emma), {"post": "yes"})

    assert response.status_code == 302
    assert not Pupil.objects.filter(pk=cast.emma.pk).exists()
    assert left_behind(cast.emma) == NOTHING
    assert not photo.storage.exists(photo.name)
    # Daan, his photo-less tile and his parent link are untouched.
    assert ParentLink.objects.filter(pupil=cast.daan, user=cast.parent_a).exists()


def test_what_staff_did_to_a_deleted_pupil_stays_in_the_log_without_the_pupil(
    cast, catalogue, committed
):
    changed = AuditEvent.objects.create(
        kind=Kind.PARENT_ADDED,
        school=cast.school_x,
        pupil=cast.emma,
        user=cast.parent_a,
        actor=cast.teacher_x,
    )
    with committed():
        Pupil.objects.filter(pk=cast.emma.pk).delete()

    changed = AuditEvent.objects.get(pk=changed.pk)
    assert (changed.pupil_id, changed.actor_id, changed.school_id) == (
        None,
        cast.teacher_x.pk,
        cast.school_x.pk,
    )


def test_purging_left_pupils_removes_photos_and_launch_history_too(
    cast, catalogue, settings, committed
):
    settings.LEFT_PUPIL_RETENTION_DAYS = 365
    with committed():
        give_history(cast.emma, catalogue)
    photo = fresh(cast.emma).avatar
    Pupil.objects.filter(pk=cast.emma.pk).update(
        left_on=date(2020, 1, 1), left_marked_on=date(2020, 1, 1), home_login_enabled=False
    )

    with committed():
        assert "1 leerlingen verwijderd" in purge()

    assert left_behind(cast.emma) == NOTHING
    assert not photo.storage.exists(photo.name)


def test_an_operator_can_delete_an_account_that_is_in_the_log(client, cast, committed):
    login = AuditEvent.objects.create(kind=Kind.LOGIN, user=cast.parent_b)
    added = AuditEvent.objects.create(
        kind=Kind.PARENT_ADDED, pupil=cast.yara, user=cast.parent_b, actor=cast.teacher_y
    )
    client.force_login(cast.superuser)

    with committed():
        response = client.post(delete_url(cast.parent_b), {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=cast.parent_b.pk).exists()
    assert not AuditEvent.objects.filter(pk=login.pk).exists()
    assert AuditEvent.objects.get(pk=added.pk).user_id is None


# --- parent accounts without children ------------------------------------------------------


def test_removing_the_last_address_switches_the_account_off_and_ends_its_sessions(
    client, cast, committed
):
    client.force_login(cast.parent_b)
    teacher = type(client)()
    teacher.force_login(cast.teacher_y)

    with committed():
        assert saved(post_change(teacher, cast.yara, parent_email_1=""))

    parent_b = fresh(cast.parent_b)
    assert not parent_b.is_active
    assert OrphanedAccount.objects.filter(user=parent_b).exists()
    assert AuditEvent.objects.filter(kind=Kind.ACCOUNT_DEACTIVATED, user=parent_b).count() == 1
    response = client.get(reverse("children"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("home"))
    assert log_in(type(client)(), parent_b.email, PASSWORD).status_code == 200  # refused


def test_a_child_logged_in_by_a_switched_off_parent_is_logged_out(client, cast, committed):
    client.force_login(cast.parent_a)
    tap_pin(client, cast.emma, "2468")
    assert client.get(reverse("software")).status_code == 200

    with committed():
        Pupil.objects.filter(pk__in=[cast.emma.pk, cast.daan.pk]).delete()

    assert not fresh(cast.parent_a).is_active
    assert client.get(reverse("software"))["Location"] == reverse("home")


def test_a_switched_off_accounts_set_password_links_stop_working(cast, committed):
    link, _token = PasswordLink.issue(cast.parent_b, PasswordLink.Purpose.INVITATION)
    with committed():
        ParentLink.objects.filter(user=cast.parent_b).delete()
    assert fresh(link).used_at is not None


def test_a_parent_with_another_child_stays(cast, committed):
    with committed():
        set_parent_emails(cast.emma, [], by=cast.teacher_x)
    assert fresh(cast.parent_a).is_active
    assert not OrphanedAccount.objects.exists()


def test_a_parent_whose_children_all_left_is_switched_off_and_back_on_when_one_returns(
    cast, committed
):
    with committed():
        cast.yara.mark_left()
    assert not fresh(cast.parent_b).is_active

    yara = fresh(cast.yara)
    yara.left_on = None
    with committed():
        yara.save()
    assert fresh(cast.parent_b).is_active
    assert not OrphanedAccount.objects.exists()
    kinds = list(AuditEvent.objects.filter(user=cast.parent_b).order_by("at").values_list("kind"))
    assert kinds == [(Kind.ACCOUNT_DEACTIVATED,), (Kind.ACCOUNT_REACTIVATED,)]


def test_an_import_that_marks_the_children_as_left_switches_the_parent_off(cast, committed):
    data = b"key,voornaam,tussenvoegsel,achternaam,groep,jaargroep\n900,Sam,,Jansen,Groep 5,5\n"
    with committed():
        outcome = run_import(ImportLog.Kind.CSV, data, "leerlingen.csv", target=cast.school_x)
    assert not outcome.error
    assert not fresh(cast.emma).is_active and not fresh(cast.daan).is_active
    assert not fresh(cast.parent_a).is_active
    assert fresh(cast.parent_b).is_active  # Yara is at school Y


def test_a_preview_of_an_import_switches_nobody_off(cast, committed):
    data = b"key,voornaam,tussenvoegsel,achternaam,groep,jaargroep\n900,Sam,,Jansen,Groep 5,5\n"
    with committed():
        run_import(ImportLog.Kind.CSV, data, "x.csv", target=cast.school_x, dry_run=True)
    assert fresh(cast.parent_a).is_active


def test_staff_and_superusers_are_never_switched_off(cast, committed):
    with committed():
        set_parent_emails(cast.lotte, [cast.ict_x.email, cast.superuser.email])
        set_parent_emails(cast.lotte, [])
    assert fresh(cast.ict_x).is_active and fresh(cast.superuser).is_active
    assert not OrphanedAccount.objects.exists()


def test_linking_the_address_again_switches_the_account_back_on_with_its_password(
    client, cast, committed
):
    teacher = type(client)()
    teacher.force_login(cast.teacher_y)
    cast.yara.set_pin("1357")
    cast.yara.home_login_enabled = True
    cast.yara.save()
    with committed():
        post_change(teacher, cast.yara, parent_email_1="")
    assert not fresh(cast.parent_b).is_active
    before = len(queued_to(cast.parent_b.email))

    with committed():
        assert saved(post_change(teacher, cast.yara, parent_email_1=cast.parent_b.email))

    assert fresh(cast.parent_b).is_active
    assert not OrphanedAccount.objects.exists()
    assert log_in(client, cast.parent_b.email, PASSWORD).status_code == 302
    assert "Yara" in client.get(reverse("children")).content.decode()
    # The parent already has a password: a short notice, not a new set-password link.
    (notice,) = queued_to(cast.parent_b.email)[before:]
    assert "/wachtwoord/" not in notice.message


def test_an_account_switched_off_by_an_operator_is_left_alone(cast, committed, time_machine):
    time_machine.move_to(NOW)
    User.objects.filter(pk=cast.parent_b.pk).update(is_active=False)
    with committed():
        set_parent_emails(cast.yara, [])
    assert not OrphanedAccount.objects.exists()
    time_machine.shift(timedelta(days=400))
    purge()
    with committed():
        set_parent_emails(cast.yara, [cast.parent_b.email])
    assert User.objects.filter(pk=cast.parent_b.pk, is_active=False).exists()


def test_an_account_without_children_is_deleted_after_the_retention_period(
    cast, settings, committed, time_machine
):
    settings.ORPHAN_ACCOUNT_RETENTION_DAYS = 30
    time_machine.move_to(NOW)
    with committed():
        set_parent_emails(cast.yara, [], by=cast.teacher_y)
    assert not fresh(cast.parent_b).is_active

    time_machine.move_to(NOW + timedelta(days=29))
    assert "0 ouderaccounts zonder kinderen verwijderd (langer dan 30 dagen uit)." in purge()
    assert User.objects.filter(pk=cast.parent_b.pk).exists()

    time_machine.move_to(NOW + timedelta(days=31))
    assert "1 ouderaccounts zonder kinderen verwijderd (langer dan 30 dagen uit)." in purge()
    assert not User.objects.filter(pk=cast.parent_b.pk).exists()
    assert not OrphanedAccount.objects.exists()
    # What the teacher did stays in the log, without the deleted account; its own events go.
    removed = AuditEvent.objects.get(kind=Kind.PARENT_REMOVED)
    assert (removed.user_id, removed.actor_id) == (None, cast.teacher_y.pk)
    assert not AuditEvent.objects.filter(kind=Kind.ACCOUNT_DEACTIVATED).exists()
    assert User.objects.filter(pk=cast.parent_a.pk, is_active=True).exists()


def test_an_account_linked_again_before_the_retention_ends_is_kept(
    cast, settings, committed, time_machine
):
    settings.ORPHAN_ACCOUNT_RETENTION_DAYS = 30
    time_machine.move_to(NOW)
    with committed():
        set_parent_emails(cast.yara, [])
    time_machine.move_to(NOW + timedelta(days=20))
    with committed():
        set_parent_emails(cast.yara, [cast.parent_b.email])
    time_machine.move_to(NOW + timedelta(days=60))
    purge()
    assert User.objects.filter(pk=cast.parent_b.pk, is_active=True).exists()


# --- export_pupil --------------------------------------------------------------------------


def export(code) -> str:
    out = io.StringIO()
    call_command("export_pupil", str(code), stdout=out)
    return out.getvalue()


def test_the_export_holds_what_is_stored_about_the_pupil(cast, catalogue, committed):
    with committed():
        give_history(cast.emma, catalogue)
    Pupil.objects.filter(pk=cast.emma.pk).update(external_key="100042")
    ImportLog.objects.create(
        school=cast.school_x,
        kind=ImportLog.Kind.CSV,
        file_name="leerlingen.csv",
        message="Leerling '100042' komt overeen met een leerling van een andere regel.",
        ok=False,
    )
    ImportLog.objects.create(school=cast.school_x, kind=ImportLog.Kind.CSV, file_name="ander.csv")
    sub = Pseudonym.objects.get(pupil=cast.emma).sub

    data = json.loads(export(cast.emma.code))

    assert data["leerling"]["code"] == str(cast.emma.code)
    assert (data["leerling"]["roepnaam"], data["leerling"]["achternaam"]) == ("Emma", "Visser")
    assert data["leerling"]["sleutel_administratie"] == "100042"
    assert data["leerling"]["foto"] == fresh(cast.emma).avatar.name
    assert data["school"] == {"naam": "De Regenboog", "brin": "12AB", "vestigingscode": "00"}
    assert data["groep"] == {"naam": "Groep 5", "jaargroep": "groep 5"}
    assert [parent["e_mailadres"] for parent in data["ouders"]] == ["ouder.a@example.com"]
    assert data["ouders"][0]["wachtwoord_gekozen"] is True
    home = data["thuis_inloggen"]
    assert (home["aan"], home["nu_mogelijk"], home["inlogmethode"]) == (True, True, "pincode")
    assert (home["pincode_ingesteld"], home["plaatjeswachtwoord_ingesteld"]) == (True, False)
    assert [licence["product"] for licence in data["licenties"]] == ["Rekenrups"]
    assert data["zichtbare_software"] == [{"product": "Rekenrups", "uitgever": "Uitgeverij Klimop"}]
    assert [launch["product"] for launch in data["starts"]] == ["Rekenrups"]
    assert data["schuilnamen_bij_uitgevers"] == [{"uitgever": "Uitgeverij Klimop", "sub": sub}]
    assert len(data["inlogcodes_voor_uitgevers"]) == len(data["toegangstokens"]) == 1
    assert len(data["starttickets"]) == 1
    assert [event["gebeurtenis"] for event in data["logboek"]] == ["software geopend"]
    assert [log["bestand"] for log in data["importen"]] == ["leerlingen.csv"]
    assert data["importen"][0]["de_leerling_staat_in"] == ["verslag"]


def test_the_export_never_holds_a_hash_code_or_token(cast, catalogue, committed):
    with committed():
        give_history(cast.emma, catalogue)
    emma, parent = fresh(cast.emma), fresh(cast.parent_a)

    output = export(emma.code)

    assert emma.pin_hash and emma.pin_hash not in output
    assert parent.password not in output
    for stored in AuthorizationCode.objects.values_list("digest", flat=True):
        assert stored not in output
    for stored in AccessToken.objects.values_list("digest", flat=True):
        assert stored not in output
    assert "hash" not in output and "digest" not in output
    assert "Daan" not in output and "ouder.b@example.com" not in output


def test_the_export_of_a_pupil_without_history_is_complete_but_empty(cast):
    data = json.loads(export(cast.lotte.code))
    assert data["leerling"]["roepnaam"] == "Lotte"
    assert data["ouders"] == data["starts"] == data["logboek"] == data["importen"] == []
    assert data["thuis_inloggen"]["pincode_ingesteld"] is False


@pytest.mark.parametrize("code", ["00000000-0000-4000-8000-000000000000", "geen-code", " "])
def test_an_unknown_code_is_a_clear_error(cast, code):
    with pytest.raises(CommandError, match="Er is geen leerling met de code"):
        export(code)


# --- old e-mail ----------------------------------------------------------------------------


def test_the_daily_purge_deletes_old_sent_and_failed_mail_but_never_queued_mail(db, settings):
    from post_office.models import STATUS, Email

    def email(status, days_old):
        message = Email.objects.create(
            from_email="noreply@example.com",
            to=["ouder@example.com"],
            subject="Thuis inloggen voor Emma",
            message="Emma kan nu thuis inloggen.",
            status=status,
        )
        Email.objects.filter(pk=message.pk).update(
            created=timezone.now() - timedelta(days=days_old)
        )
        return message.pk

    old_sent, old_failed, old_queued = (
        email(STATUS.sent, 31),
        email(STATUS.failed, 31),
        email(STATUS.queued, 31),
    )
    recent_sent = email(STATUS.sent, 29)

    report = purge()

    assert set(Email.objects.values_list("pk", flat=True)) == {old_queued, recent_sent}
    assert "2 verstuurde of mislukte e-mails verwijderd (ouder dan 30 dagen)" in report
    assert {old_sent, old_failed}.isdisjoint(Email.objects.values_list("pk", flat=True))
