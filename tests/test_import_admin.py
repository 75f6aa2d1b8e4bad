"""Importing in admin: upload → preview → confirm, who may do it, and the import log.

School X (De Regenboog, 12AB00) has groups 2, 5 and 7 and the pupils Emma, Daan and Lotte;
here they carry the keys of the school's administration, as after an earlier import.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import ParentLink
from schools.models import Group, ImportLog, Pupil, StaffMembership, StaffRole
from tests.conftest import make_user
from tests.helpers import fresh, html
from tests.test_import_edexml import edexml, pupils_line, snapshot, to_bytes

pytestmark = pytest.mark.django_db

NOW = "2025-09-01 10:00 +02:00"
EXPIRED = "Deze voorvertoning is verlopen"

GROUPS = [("G2", "Groep 2", "2"), ("G5", "Groep 5", "5"), ("G7", "Groep 7", "7")]
CAST_PUPILS = [
    ("E1", "Emma", "Visser", "G5"),
    ("D1", "Daan", "Visser", "G2"),
    ("L1", "Lotte", "Dekker", "G7"),
]
NEW_PUPILS = [("N1", "Noah", "Bakker", "G5"), ("S1", "Sara", "Smit", "G7")]


def regenboog(brin: str = "12AB", location: str = "00", pupils=None) -> bytes:
    """School X's file: its three pupils and two new ones."""
    pupils = CAST_PUPILS + NEW_PUPILS if pupils is None else pupils
    return to_bytes(edexml(brin=brin, location=location, groups=GROUPS, pupils=pupils))


def import_url(school) -> str:
    return reverse("admin:schools_school_import", args=[school.pk])


def log_url(log: ImportLog) -> str:
    return reverse("admin:schools_importlog_change", args=[log.pk])


def upload(client, school, data: bytes, name: str = "regenboog.xml"):
    return client.post(import_url(school), {"file": SimpleUploadedFile(name, data)})


def confirm(client, school, code, **extra):
    return client.post(import_url(school), {"confirm": str(code)}, **extra)


def imports() -> list[ImportLog]:
    return list(ImportLog.objects.filter(dry_run=False))


@pytest.fixture
def keyed(cast, time_machine):
    """The cast with the keys of the administration; the clock on a school morning."""
    time_machine.move_to(NOW)
    for item, key in ((cast.emma, "E1"), (cast.daan, "D1"), (cast.lotte, "L1")):
        Pupil.objects.filter(pk=item.pk).update(external_key=key)
    return cast


@pytest.fixture
def ict(client, keyed):
    client.force_login(keyed.ict_x)
    return client


@pytest.fixture
def preview(ict, keyed) -> ImportLog:
    response = upload(ict, keyed.school_x, regenboog())
    assert response.status_code == 200
    return response.context["preview"]


# --- the flow ------------------------------------------------------------------------------


def test_the_upload_page_shows_the_form(ict, keyed):
    response = ict.get(import_url(keyed.school_x))
    assert response.status_code == 200
    page = html(response)
    assert 'type="file"' in page
    assert "De Regenboog (12AB00)" in page
    assert 'name="confirm"' not in page


def test_the_preview_lists_the_counts_and_changes_nothing(ict, keyed):
    before = snapshot()

    response = upload(ict, keyed.school_x, regenboog())

    assert response.status_code == 200
    page = html(response)
    assert pupils_line(created=2, unchanged=3) in page
    assert "Groepen: 0 nieuw, 3 gewijzigd." in page  # the groups get the file's keys
    preview = response.context["preview"]
    assert f'name="confirm" value="{preview.code}"' in page
    assert (preview.dry_run, preview.ok, preview.by, preview.school) == (
        True,
        True,
        keyed.ict_x,
        keyed.school_x,
    )
    assert bytes(preview.upload) == regenboog()
    assert snapshot() == before
    assert imports() == []


def test_confirming_imports_the_file_and_shows_the_log(ict, keyed, preview):
    emma_pin = fresh(keyed.emma).pin_hash

    response = confirm(ict, keyed.school_x, preview.code)

    log = ImportLog.objects.get(dry_run=False)
    assert response.status_code == 302
    assert response["Location"] == log_url(log)
    assert (log.ok, log.by, log.school, log.file_name) == (
        True,
        keyed.ict_x,
        keyed.school_x,
        "regenboog.xml",
    )
    assert log.counts["created"] == 2
    assert set(
        Pupil.objects.filter(school=keyed.school_x).values_list("external_key", flat=True)
    ) == {"E1", "D1", "L1", "N1", "S1"}
    assert dict(
        Group.objects.filter(school=keyed.school_x).values_list("name", "external_key")
    ) == {
        "Groep 2": "G2",
        "Groep 5": "G5",
        "Groep 7": "G7",
    }
    emma = fresh(keyed.emma)
    assert (emma.pin_hash, emma.home_login_enabled, emma.left_on) == (emma_pin, True, None)
    assert ParentLink.objects.filter(pupil=emma, user=keyed.parent_a).exists()
    assert fresh(preview).upload is None  # the file is not kept once it is used

    page = ict.get(response["Location"])
    assert page.status_code == 200
    assert pupils_line(created=2, unchanged=3) in html(page)


def test_confirming_twice_imports_once(ict, keyed, preview):
    confirm(ict, keyed.school_x, preview.code)
    after_first = snapshot()

    response = confirm(ict, keyed.school_x, preview.code, follow=True)

    assert response.redirect_chain == [(import_url(keyed.school_x), 302)]
    assert EXPIRED in html(response)
    assert snapshot() == after_first
    assert len(imports()) == 1


@pytest.mark.parametrize(
    ("later", "imported"),
    [(timedelta(minutes=59), True), (timedelta(minutes=61), False)],
    ids=["within-the-hour", "after-an-hour"],
)
def test_a_preview_can_be_confirmed_for_an_hour(ict, keyed, preview, time_machine, later, imported):
    time_machine.shift(later)
    before = snapshot()

    response = confirm(ict, keyed.school_x, preview.code, follow=True)

    if imported:
        assert response.redirect_chain[-1][0] == log_url(ImportLog.objects.get(dry_run=False))
        assert Pupil.objects.filter(external_key="N1").exists()
    else:
        assert response.redirect_chain == [(import_url(keyed.school_x), 302)]
        assert EXPIRED in html(response)
        assert snapshot() == before
        assert imports() == []


def test_a_confirmation_code_that_is_no_code_is_an_expired_preview(ict, keyed):
    response = confirm(ict, keyed.school_x, "niet-een-code", follow=True)
    assert response.status_code == 200
    assert EXPIRED in html(response)


def test_a_file_that_changes_nothing_offers_no_confirmation(ict, keyed, preview):
    confirm(ict, keyed.school_x, preview.code)

    response = upload(ict, keyed.school_x, regenboog())

    page = html(response)
    assert "Er verandert niets" in page
    assert 'name="confirm"' not in page


def test_a_file_of_another_school_is_refused(ict, keyed):
    before = snapshot()

    response = upload(ict, keyed.school_x, regenboog(brin="34CD", location="01"))

    assert response.status_code == 200
    assert "preview" not in response.context
    [error] = response.context["form"].errors["file"]
    assert error.startswith("Dit bestand is van school 34CD01, niet van De Regenboog (12AB00).")
    assert "Dit bestand is van school" in html(response)
    assert snapshot() == before
    log = ImportLog.objects.get()
    assert (log.ok, log.school, log.upload) == (False, keyed.school_x, None)


def test_a_broken_file_is_refused_with_the_readers_message(ict, keyed):
    before = snapshot()
    response = upload(ict, keyed.school_x, b"<EDEX>\n<school>\n</EDEX>")
    [error] = response.context["form"].errors["file"]
    assert "geen geldige XML (regel 3" in error
    assert snapshot() == before


def test_a_file_above_the_limit_is_refused_before_it_is_read(ict, keyed, monkeypatch):
    monkeypatch.setattr("schools.admin.imports.MAX_FILE_BYTES", 100)
    before = snapshot()
    response = upload(ict, keyed.school_x, regenboog())
    assert "groter dan" in response.context["form"].errors["file"][0]
    assert snapshot() == before


def test_a_csv_file_is_read_for_the_school_of_the_page(ict, keyed):
    data = (
        b"key,voornaam,tussenvoegsel,achternaam,groep,jaargroep\n"
        b"E1,Emma,,Visser,Groep 5,5\n"
        b"D1,Daan,,Visser,Groep 2,2\n"
        b"L1,Lotte,,Dekker,Groep 7,7\n"
        b"N1,Noah,,Bakker,Groep 5,5\n"
    )

    response = upload(ict, keyed.school_x, data, name="leerlingen.csv")

    preview = response.context["preview"]
    assert preview.kind == ImportLog.Kind.CSV
    # The three get a year level of their own from the file.
    assert pupils_line(created=1, updated=3) in html(response)
    confirm(ict, keyed.school_x, preview.code)
    assert Pupil.objects.get(external_key="N1").group == keyed.group_x5


# --- who may -------------------------------------------------------------------------------


def test_it_requires_login(client, keyed):
    response = client.get(import_url(keyed.school_x))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_teacher_of_the_school_may_not_import(client, keyed):
    client.force_login(keyed.teacher_x)
    before = snapshot()
    assert client.get(import_url(keyed.school_x)).status_code == 403
    assert upload(client, keyed.school_x, regenboog()).status_code == 403
    assert snapshot() == before
    assert not ImportLog.objects.exists()


def test_a_teacher_cannot_confirm_a_managers_preview(client, keyed, preview):
    client.force_login(keyed.teacher_x)
    assert confirm(client, keyed.school_x, preview.code).status_code == 403
    assert imports() == []


@pytest.mark.parametrize("role", [StaffRole.TEACHER, StaffRole.ICT_COORDINATOR])
def test_staff_of_another_school_do_not_find_the_page(client, keyed, role):
    outsider = make_user(f"{role}@zonnewijzer.nl")
    StaffMembership.objects.create(user=outsider, school=keyed.school_y, role=role)
    client.force_login(outsider)
    before = snapshot()
    assert client.get(import_url(keyed.school_x)).status_code == 404
    assert upload(client, keyed.school_x, regenboog()).status_code == 404
    assert snapshot() == before


def test_the_cast_teacher_of_school_y_does_not_find_the_page(client, keyed):
    client.force_login(keyed.teacher_y)
    assert client.get(import_url(keyed.school_x)).status_code == 404


def test_another_manager_cannot_confirm_someone_elses_preview(client, keyed, preview):
    client.force_login(keyed.admin_x)
    before = snapshot()

    response = confirm(client, keyed.school_x, preview.code, follow=True)

    assert response.redirect_chain == [(import_url(keyed.school_x), 302)]
    assert EXPIRED in html(response)
    assert snapshot() == before
    assert imports() == []
    # The uploader still can.
    client.force_login(keyed.ict_x)
    confirm(client, keyed.school_x, preview.code)
    assert len(imports()) == 1


def test_a_preview_is_confirmed_only_on_the_page_of_its_school(client, keyed):
    """A superuser's preview for school X cannot be confirmed on school Y's page."""
    client.force_login(keyed.superuser)
    response = upload(client, keyed.school_x, regenboog())
    code = response.context["preview"].code
    before = snapshot()
    response = confirm(client, keyed.school_y, code, follow=True)
    assert EXPIRED in html(response)
    assert snapshot() == before


# --- the import log ------------------------------------------------------------------------


@pytest.fixture
def logs(keyed):
    def log(school, name):
        return ImportLog.objects.create(
            school=school, kind=ImportLog.Kind.EDEXML, file_name=name, message=f"Verslag {name}"
        )

    return {
        "x": log(keyed.school_x, "regenboog.xml"),
        "y": log(keyed.school_y, "zonnewijzer.xml"),
    }


def listed(client) -> set[str]:
    response = client.get(reverse("admin:schools_importlog_changelist"))
    assert response.status_code == 200
    return {log.file_name for log in response.context["cl"].result_list}


def test_a_manager_sees_the_logs_of_their_school_only(ict, keyed, logs):
    assert listed(ict) == {"regenboog.xml"}
    page = ict.get(log_url(logs["x"]))
    assert page.status_code == 200
    assert "Verslag regenboog.xml" in html(page)
    assert ict.get(log_url(logs["y"])).status_code == 404


def test_a_superuser_sees_the_logs_of_every_school(client, keyed, logs):
    client.force_login(keyed.superuser)
    assert listed(client) == {"regenboog.xml", "zonnewijzer.xml"}


def test_a_teacher_does_not_see_the_import_log(client, keyed, logs):
    client.force_login(keyed.teacher_x)
    assert client.get(reverse("admin:schools_importlog_changelist")).status_code == 403
    assert client.get(log_url(logs["x"])).status_code == 404


def test_the_import_log_cannot_be_changed_or_deleted(ict, keyed, logs):
    assert ict.post(log_url(logs["x"]), {"file_name": "anders.xml"}).status_code == 403
    delete = reverse("admin:schools_importlog_delete", args=[logs["x"].pk])
    assert ict.post(delete, {"post": "yes"}).status_code == 403
    assert fresh(logs["x"]).file_name == "regenboog.xml"


def test_files_of_previews_never_confirmed_are_cleared_by_the_daily_purge(
    ict, keyed, preview, time_machine
):
    from django.core.management import call_command

    time_machine.shift(timedelta(minutes=59))
    call_command("purge_left_pupils", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert ImportLog.objects.get(pk=preview.pk).upload is not None
    time_machine.shift(timedelta(minutes=2))
    call_command("purge_left_pupils", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert ImportLog.objects.get(pk=preview.pk).upload is None


def test_an_operator_sees_refusals_of_files_for_unknown_schools(client, cast):
    refused = ImportLog.objects.create(
        kind=ImportLog.Kind.EDEXML, file_name="onbekend.xml", ok=False, message="kapot"
    )
    client.force_login(cast.superuser)
    page = client.get(reverse("admin:schools_importlog_changelist")).content.decode()
    assert "onbekend.xml" in page
    client.force_login(cast.ict_x)
    assert (
        "onbekend.xml"
        not in client.get(reverse("admin:schools_importlog_changelist")).content.decode()
    )
    assert refused.pk
