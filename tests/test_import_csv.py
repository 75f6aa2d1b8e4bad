"""manage.py import_csv: the sample school's CSV export (tests/data/sample-school.csv)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from schools.models import Group, ImportLog, Pupil, School, StaffMembership, YearLevel
from tests.test_import_edexml import (
    NOTHING_CHANGES,
    SAMPLE_XML,
    TEACHER_GROUPS,
    counts,
    import_edexml,
    pupils_line,
    snapshot,
)

pytestmark = pytest.mark.django_db

SAMPLE_CSV = Path(__file__).resolve().parent / "data" / "sample-school.csv"
HEADER = "key,voornaam,tussenvoegsel,achternaam,geboortedatum,groep,jaargroep,eckid"


def sample_lines() -> list[str]:
    return SAMPLE_CSV.read_text(encoding="utf-8").splitlines()


def write(tmp_path: Path, data: bytes | str, name: str = "leerlingen.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def import_csv(path: Path, *args: str, school: str = "99XX") -> str:
    out = io.StringIO()
    call_command("import_csv", str(path), "--school", school, *args, stdout=out)
    return out.getvalue()


def refused(path: Path, *args: str) -> str:
    """Run the import, expect a refusal that changes nothing and is logged; its message."""
    before = snapshot()
    earlier = list(ImportLog.objects.values_list("pk", flat=True))
    with pytest.raises(CommandError) as refusal:
        import_csv(path, *args)
    assert snapshot() == before
    log = ImportLog.objects.exclude(pk__in=earlier).get()
    assert (log.ok, log.kind) == (False, ImportLog.Kind.CSV)
    assert log.message == str(refusal.value)
    return str(refusal.value)


def latest_log() -> ImportLog:
    return ImportLog.objects.order_by("-started_at").first()


@pytest.fixture
def imported(time_machine) -> School:
    time_machine.move_to("2025-09-01 10:00 +02:00")
    import_csv(SAMPLE_CSV)
    return School.objects.get(brin="99XX")


def test_it_imports_the_sample_csv(time_machine):
    time_machine.move_to("2025-09-01 10:00 +02:00")
    output = import_csv(SAMPLE_CSV)

    assert "Import voor School 99XX00 (99XX00):" in output
    assert pupils_line(created=60) in output
    assert "Groepen: 8 nieuw, 0 gewijzigd." in output
    assert (
        "Leerkrachten: 0 nieuw, 0 gewijzigd, 0 niet meer in het bestand (groepen eraf)." in output
    )
    school = School.objects.get()
    assert (school.brin, school.location_code) == ("99XX", "00")
    groups = {group.name: group for group in school.groups.all()}
    assert {name: group.year_level for name, group in groups.items()} == {
        f"Groep {n}": str(n) for n in range(1, 9)
    }
    assert {group.external_key for group in groups.values()} == {""}  # a CSV has no group keys
    assert sum(group.pupils.count() for group in groups.values()) == 60
    milan = Pupil.objects.get(external_key="100001")
    assert (milan.first_name, milan.infix, milan.last_name, milan.group.name) == (
        "Milan",
        "van den",
        "Berg",
        "Groep 1",
    )
    assert Pupil.objects.get(external_key="100002").eck_id.startswith("https://ketenid.nl/")
    assert not Pupil.objects.filter(home_login_enabled=True).exists()
    assert not StaffMembership.objects.exists()  # a CSV file says nothing about teachers
    log = latest_log()
    assert (log.ok, log.kind, log.school) == (True, ImportLog.Kind.CSV, school)
    assert log.counts == counts(created=60, groups_created=8)


def test_a_second_import_changes_nothing(imported, time_machine):
    time_machine.shift(3600)
    before = snapshot()

    output = import_csv(SAMPLE_CSV)

    assert pupils_line(unchanged=60) in output
    assert NOTHING_CHANGES in output
    assert snapshot() == before


def test_the_school_and_location_come_from_the_command_line():
    output = import_csv(SAMPLE_CSV, "--location", "02", school="99xx")
    assert "(99XX02)" in output
    assert School.objects.get().location_code == "02"


def test_a_dry_run_changes_nothing():
    output = import_csv(SAMPLE_CSV, "--dry-run")
    assert "Proefimport (er is niets veranderd)" in output
    assert pupils_line(created=60) in output
    assert not School.objects.exists()
    assert not Pupil.objects.exists()


def test_a_semicolon_separated_file_works(tmp_path):
    lines = [line.replace(",", ";") for line in sample_lines()]
    output = import_csv(write(tmp_path, "\n".join(lines) + "\n"))
    assert pupils_line(created=60) in output
    assert Group.objects.count() == 8
    assert Pupil.objects.get(external_key="100001").infix == "van den"


def test_an_excel_file_with_bom_and_crlf_works(tmp_path):
    data = "\ufeff" + "\r\n".join(sample_lines()) + "\r\n"
    output = import_csv(write(tmp_path, data.encode("utf-8")))
    assert pupils_line(created=60) in output
    assert Pupil.objects.get(external_key="100001").first_name == "Milan"


def test_columns_may_come_in_any_order_and_blank_lines_are_skipped(tmp_path):
    text = (
        "Jaargroep,Groep,Achternaam,Tussenvoegsel,Voornaam,Key\n"
        "5,Groep 5,Vries,de,Noor,A1\n"
        "\n"
        "5,Groep 5,Smit,,Sem,A2\n"
    )
    output = import_csv(write(tmp_path, text))
    assert pupils_line(created=2) in output
    noor = Pupil.objects.get(external_key="A1")
    assert (noor.first_name, noor.infix, noor.last_name, noor.group.name) == (
        "Noor",
        "de",
        "Vries",
        "Groep 5",
    )


def test_pupils_of_two_year_levels_in_one_group_make_a_combination_group(tmp_path):
    text = (
        f"{HEADER}\n"
        "A1,Noor,,Vries,2016-01-01,Groep 5/6,5,\n"
        "A2,Sem,,Smit,2015-01-01,Groep 5/6,6,\n"
        "A3,Bo,,Kok,2014-01-01,Groep 7,7,\n"
    )
    import_csv(write(tmp_path, text))
    assert Group.objects.get(name="Groep 5/6").year_level == YearLevel.COMBINED
    assert Group.objects.get(name="Groep 7").year_level == "7"
    levels = {p.external_key: (p.year_level, p.effective_year_level) for p in Pupil.objects.all()}
    assert levels == {"A1": ("5", "5"), "A2": ("6", "6"), "A3": ("7", "7")}


def test_a_latin1_file_is_refused_with_the_line_it_fails_on(imported, tmp_path):
    lines = sample_lines()[:4]
    lines.append("300001,José,,Peña,2018-03-03,Groep 4,4,")
    lines += sample_lines()[30:33]
    message = refused(write(tmp_path, ("\n".join(lines) + "\n").encode("latin-1")))
    assert message.startswith("Regel 5: het bestand is geen UTF-8.")


def test_missing_columns_are_named(imported, tmp_path):
    text = "key,voornaam,achternaam,groep\n100001,Milan,Berg,Groep 1\n"
    message = refused(write(tmp_path, text))
    assert message == "Regel 1: de kolom(men) tussenvoegsel, jaargroep ontbreken."


def test_a_line_with_the_wrong_number_of_columns_is_refused(imported, tmp_path):
    lines = sample_lines()
    lines[6] = lines[6].rsplit(",", 1)[0]  # line 7 lost its last column
    message = refused(write(tmp_path, "\n".join(lines[:40]) + "\n"))
    assert message == "Regel 7: 7 kolommen, de kopregel heeft er 8."


def test_a_duplicate_key_is_refused(imported, tmp_path):
    lines = sample_lines()[:30]
    lines.append(lines[3])  # line 31 repeats line 4 (key 100003)
    message = refused(write(tmp_path, "\n".join(lines) + "\n"))
    assert message == "Regel 31: de leerlingsleutel '100003' komt twee keer voor."


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (",Noor,,Vries,,Groep 5,5,", "Regel 2: de kolom key is leeg."),
        ("A1,,,Vries,,Groep 5,5,", "Regel 2: voornaam, achternaam of groep is leeg."),
        ("A1,Noor,,Vries,,Groep 9,9,", "Regel 2: jaargroep '9' is onbekend."),
        ('A1,"Noor,,Vries,,Groep 5,5,', "Regel 2:"),
    ],
    ids=["no-key", "no-first-name", "unknown-year-level", "open-quote"],
)
def test_a_bad_line_is_refused(imported, tmp_path, line, message):
    assert message in refused(write(tmp_path, f"{HEADER}\n{line}\n"))


def test_an_empty_file_is_refused(imported, tmp_path):
    assert refused(write(tmp_path, b"")) == "Het bestand is leeg."


def test_a_csv_for_a_school_imported_from_edexml_keeps_the_group_keys(time_machine, tmp_path):
    time_machine.move_to("2025-09-01 10:00 +02:00")
    import_edexml(SAMPLE_XML)
    time_machine.shift(3600)
    before = snapshot()

    output = import_csv(SAMPLE_CSV)

    assert pupils_line(unchanged=60) in output
    assert NOTHING_CHANGES in output
    assert snapshot() == before
    keys = dict(Group.objects.values_list("name", "external_key"))
    assert keys == {f"Groep {n}": f"GRP{n}" for n in range(1, 9)}
    # Teachers come only from EDEXML: a CSV import leaves them and their groups alone.
    memberships = StaffMembership.objects.select_related("user")
    assert {m.user.email: {g.name for g in m.groups.all()} for m in memberships} == TEACHER_GROUPS


def test_a_csv_moves_a_pupil_and_marks_a_missing_one_as_left(imported, tmp_path):
    lines = sample_lines()
    lines = [line for line in lines if not line.startswith("100060,")]
    lines = [
        line.replace(",Groep 3,3,", ",Groep 4,4,") if line.startswith("100020,") else line
        for line in lines
    ]
    output = import_csv(write(tmp_path, "\n".join(lines) + "\n"))
    # Mats gets another group and another year level of his own.
    assert pupils_line(updated=1, moved=1, left=1, unchanged=58) in output
    assert Pupil.objects.get(external_key="100020").group.name == "Groep 4"
    assert Pupil.objects.get(external_key="100060").left_on is not None


def test_a_csv_without_an_eckid_column_keeps_the_portals_eck_ids(tmp_path):
    import_csv(write(tmp_path, "\n".join(sample_lines())))
    assert Pupil.objects.get(external_key="100002").eck_id
    lines = [
        ",".join(line.split(",")[:-1]) for line in sample_lines()
    ]  # the same file without its last column (eckid)
    output = import_csv(write(tmp_path, "\n".join(lines)))
    assert "Er verandert niets" in output
    assert Pupil.objects.get(external_key="100002").eck_id


def test_a_broken_quote_is_reported_in_dutch_with_its_line(tmp_path):
    lines = sample_lines()
    lines[2] = lines[2].replace("Milan", '"Milan', 1) if "Milan" in lines[2] else '"' + lines[2]
    message = refused(write(tmp_path, "\n".join(lines[:3])))
    assert message.startswith("Regel ")
    assert "aanhalingsteken" in message
