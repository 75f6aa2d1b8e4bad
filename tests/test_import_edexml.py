"""manage.py import_edexml and purge_left_pupils.

The sample school (tests/data/sample-school.xml: BRIN 99XX, 8 groups, 60 pupils, 6 teachers),
the next school year built from it, combination groups, hostile and broken files that must
change nothing, and the number of queries an import costs.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ParentLink, User
from accounts.parents import set_parent_emails
from launcher.models import Licence, Product, Publisher, products_for
from schools.imports.run import run_import
from schools.models import (
    Group,
    ImportLog,
    Pupil,
    School,
    StaffMembership,
    StaffRole,
    YearLevel,
)
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent / "data"
SAMPLE_XML = DATA / "sample-school.xml"

#: The day the imports run (Europe/Amsterdam), a few weeks into school year 2025-2026.
NOW = "2025-09-01 10:00 +02:00"
TODAY = date(2025, 9, 1)

TEACHER_GROUPS = {
    "a.degroot@verzonnenvlinder.example": {"Groep 1", "Groep 2"},
    "r.hoekstra@verzonnenvlinder.example": {"Groep 3"},
    "s.vandam@verzonnenvlinder.example": {"Groep 4", "Groep 5"},
    "k.bos@verzonnenvlinder.example": {"Groep 5", "Groep 6"},
    "m.amrani@verzonnenvlinder.example": {"Groep 7", "Groep 8"},
    "j.vanderwal@verzonnenvlinder.example": {f"Groep {n}" for n in range(3, 9)},
}

NOTHING_CHANGES = "Er verandert niets"


# --- building files ------------------------------------------------------------------------


def sample() -> ET.Element:
    """The sample school's file, to change in a test (our own file: plain ElementTree will do)."""
    return ET.parse(SAMPLE_XML).getroot()  # noqa: S314


def to_bytes(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def leerling(root: ET.Element, key: str) -> ET.Element:
    found = root.find(f"leerlingen/leerling[@key='{key}']")
    assert found is not None, key
    return found


def remove_pupil(root: ET.Element, key: str) -> ET.Element:
    element = leerling(root, key)
    root.find("leerlingen").remove(element)
    return element


def set_text(element: ET.Element, tag: str, text: str) -> None:
    child = element.find(tag)
    if child is None:
        child = ET.SubElement(element, tag)
    child.text = text


def add_pupil(
    root: ET.Element,
    key: str,
    first: str,
    last: str,
    group: str,
    level: str | None = None,
    *,
    infix: str = "",
    eckid: str = "",
    left_on: str = "",
) -> ET.Element:
    element = ET.SubElement(root.find("leerlingen"), "leerling", key=key)
    if eckid:
        element.set("eckid", eckid)
    ET.SubElement(element, "achternaam").text = last
    if infix:
        ET.SubElement(element, "voorvoegsel").text = infix
    ET.SubElement(element, "voornamen").text = first
    ET.SubElement(element, "roepnaam").text = first
    if level is not None:
        ET.SubElement(element, "jaargroep").text = level
    ET.SubElement(element, "groep", key=group)
    if left_on:
        ET.SubElement(element, "uitstroomdatum").text = left_on
    return element


def add_teacher(root: ET.Element, key: str, email: str, first: str, last: str, groups=()):
    teachers = root.find("leerkrachten")
    if teachers is None:
        teachers = ET.SubElement(root, "leerkrachten")
    element = ET.SubElement(teachers, "leerkracht", key=key)
    ET.SubElement(element, "achternaam").text = last
    ET.SubElement(element, "roepnaam").text = first
    if email:
        ET.SubElement(element, "emailadres").text = email
    references = ET.SubElement(element, "groepen")
    for group in groups:
        ET.SubElement(references, "groep", key=group)
    return element


def edexml(
    *,
    brin: str = "99XX",
    location: str = "00",
    year: str = "2025-2026",
    groups=(),
    pupils=(),
    teachers=None,
) -> ET.Element:
    """A small EDEXML file: groups as (key, name, level), pupils as add_pupil's arguments,
    teachers (if not None) as add_teacher's."""
    root = ET.Element("EDEX")
    school = ET.SubElement(root, "school")
    ET.SubElement(school, "schooljaar").text = year
    ET.SubElement(school, "brincode").text = brin
    ET.SubElement(school, "dependancecode").text = location
    groepen = ET.SubElement(root, "groepen")
    for key, name, level in groups:
        group = ET.SubElement(groepen, "groep", key=key)
        ET.SubElement(group, "naam").text = name
        ET.SubElement(group, "jaargroep").text = level
    ET.SubElement(root, "leerlingen")
    for pupil in pupils:
        if isinstance(pupil, dict):
            add_pupil(root, **pupil)
        else:
            add_pupil(root, *pupil)
    if teachers is not None:
        ET.SubElement(root, "leerkrachten")
        for teacher in teachers:
            add_teacher(root, *teacher)
    return root


def generated(count: int, *, brin: str, shift: int = 0) -> bytes:
    """A school of ``count`` pupils in 8 groups with a teacher each; ``shift`` moves every
    pupil that many groups on (a new school year)."""
    groups = [(f"GRP{n}", f"Groep {n}", str(n)) for n in range(1, 9)]
    pupils = []
    for number in range(count):
        level = (number + shift) % 8 + 1
        pupils.append((f"L{number:05d}", f"Kind{number}", "Jansen", f"GRP{level}", str(level)))
    teachers = [
        (f"LK{n}", f"juf{n}@{brin.lower()}.example", f"Juf{n}", "Meester", [f"GRP{n + shift}"])
        for n in range(1, 8)
    ]
    return to_bytes(edexml(brin=brin, groups=groups, pupils=pupils, teachers=teachers))


def write(tmp_path: Path, data: bytes | ET.Element, name: str = "school.xml") -> Path:
    if isinstance(data, ET.Element):
        data = to_bytes(data)
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- running and checking ------------------------------------------------------------------


def import_edexml(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_edexml", str(path), *args, stdout=out)
    return out.getvalue()


def counts(**changes: int) -> dict[str, int]:
    """The report's counts: zero unless given."""
    names = (
        "created",
        "updated",
        "moved",
        "left",
        "returned",
        "unchanged",
        "groups_created",
        "groups_updated",
        "teachers_created",
        "teachers_updated",
        "teachers_left",
    )
    unknown = set(changes) - set(names)
    assert not unknown, unknown
    return {name: changes.get(name, 0) for name in names}


def pupils_line(created=0, updated=0, moved=0, left=0, returned=0, unchanged=0) -> str:
    return (
        f"Leerlingen: {created} nieuw, {updated} gewijzigd, {moved} naar een andere groep, "
        f"{left} vertrokken, {returned} teruggekomen, {unchanged} ongewijzigd."
    )


def latest_log() -> ImportLog:
    return ImportLog.objects.order_by("-started_at").first()


def snapshot() -> dict:
    """Everything an import may write, in a comparable form."""
    through = StaffMembership.groups.through
    return {
        "schools": list(
            School.objects.order_by("pk").values_list("pk", "name", "brin", "location_code")
        ),
        "groups": list(
            Group.objects.order_by("pk").values_list(
                "pk", "school", "name", "year_level", "external_key"
            )
        ),
        "pupils": list(
            Pupil.objects.order_by("pk").values_list(
                "pk",
                "group",
                "first_name",
                "infix",
                "last_name",
                "year_level",
                "external_key",
                "eck_id",
                "left_on",
                "home_login_enabled",
                "pin_hash",
                "picture_password_hash",
                "updated_at",
            )
        ),
        "users": list(User.objects.order_by("pk").values_list("pk", "email", "name")),
        "memberships": list(
            StaffMembership.objects.order_by("pk").values_list("pk", "user", "school", "role")
        ),
        "teaching": sorted(
            through.objects.values_list("staffmembership", "group"), key=lambda pair: str(pair)
        ),
        "parent_links": list(ParentLink.objects.order_by("pk").values_list("pupil", "user")),
    }


def refused(path: Path, *args: str) -> str:
    """Run the import, expect a refusal that changes nothing and is logged; its message."""
    before = snapshot()
    earlier = list(ImportLog.objects.values_list("pk", flat=True))
    with pytest.raises(CommandError) as refusal:
        import_edexml(path, *args)
    assert snapshot() == before
    log = ImportLog.objects.exclude(pk__in=earlier).get()
    assert not log.ok
    assert log.message == str(refusal.value)
    assert log.counts == {}
    return str(refusal.value)


def pupil(key: str) -> Pupil:
    return Pupil.objects.select_related("group").get(school__brin="99XX", external_key=key)


@pytest.fixture
def today(time_machine):
    time_machine.move_to(NOW)
    return TODAY


@pytest.fixture
def sample_school(today) -> School:
    """The sample school imported once."""
    import_edexml(SAMPLE_XML)
    return School.objects.get(brin="99XX")


# --- the sample school ---------------------------------------------------------------------


def test_it_imports_the_sample_school(today):
    output = import_edexml(SAMPLE_XML)

    assert "Import voor School 99XX00 (99XX00):" in output
    assert pupils_line(created=60) in output
    assert "Groepen: 8 nieuw, 0 gewijzigd." in output
    assert (
        "Leerkrachten: 6 nieuw, 0 gewijzigd, 0 niet meer in het bestand (groepen eraf)." in output
    )
    assert NOTHING_CHANGES not in output
    assert "Let op" not in output  # the sample has nothing the reader does not know

    school = School.objects.get()
    assert (school.brin, school.location_code) == ("99XX", "00")
    groups = {group.external_key: group for group in school.groups.all()}
    assert {key: (g.name, g.year_level) for key, g in groups.items()} == {
        f"GRP{n}": (f"Groep {n}", str(n)) for n in range(1, 9)
    }
    pupils = Pupil.objects.filter(school=school)
    assert pupils.count() == 60
    assert {group.name: group.pupils.count() for group in groups.values()} == {
        "Groep 1": 8,
        "Groep 2": 7,
        "Groep 3": 8,
        "Groep 4": 7,
        "Groep 5": 8,
        "Groep 6": 7,
        "Groep 7": 8,
        "Groep 8": 7,
    }
    milan = pupil("100001")
    assert (milan.first_name, milan.infix, milan.last_name) == ("Milan", "van den", "Berg")
    assert (milan.group.external_key, milan.year_level, milan.eck_id) == ("GRP1", "1", "")
    elin = pupil("100002")  # voornamen "Elin Catharina", roepnaam "Elin"
    assert (elin.first_name, elin.infix, elin.last_name) == ("Elin", "", "El Amrani")
    assert elin.eck_id.startswith("https://ketenid.nl/201703/59bcd7c7")
    assert pupils.exclude(eck_id="").count() == 8
    # New pupils start with home login off and no PIN or pictures; none has left.
    assert not pupils.filter(home_login_enabled=True).exists()
    assert not pupils.exclude(pin_hash="").exists()
    assert not pupils.exclude(picture_password_hash="").exists()
    assert not pupils.filter(left_on__isnull=False).exists()

    memberships = StaffMembership.objects.filter(school=school).select_related("user")
    assert {m.user.email: m.role for m in memberships} == dict.fromkeys(
        TEACHER_GROUPS, StaffRole.TEACHER
    )
    assert {m.user.email: {g.name for g in m.groups.all()} for m in memberships} == TEACHER_GROUPS
    annemiek = User.objects.get(email="a.degroot@verzonnenvlinder.example")
    assert annemiek.name == "Annemiek de Groot"
    assert not annemiek.has_usable_password()  # they choose one through an invitation

    log = ImportLog.objects.get()
    assert (log.ok, log.dry_run, log.kind, log.file_name) == (
        True,
        False,
        "edexml",
        "sample-school.xml",
    )
    assert log.school == school
    assert log.counts == counts(created=60, groups_created=8, teachers_created=6)
    assert log.warnings == []
    assert pupils_line(created=60) in log.message


def test_a_second_import_of_the_same_file_changes_nothing_and_says_so(sample_school, time_machine):
    time_machine.shift(timedelta(hours=1))
    before = snapshot()

    output = import_edexml(SAMPLE_XML)

    assert pupils_line(unchanged=60) in output
    assert "Groepen: 0 nieuw, 0 gewijzigd." in output
    assert (
        "Leerkrachten: 0 nieuw, 0 gewijzigd, 0 niet meer in het bestand (groepen eraf)." in output
    )
    assert NOTHING_CHANGES in output
    assert snapshot() == before  # not even a pupil's updated_at
    assert ImportLog.objects.count() == 2
    assert latest_log().counts == counts(unchanged=60)


def test_a_dry_run_prints_the_counts_and_changes_nothing(today):
    output = import_edexml(SAMPLE_XML, "--dry-run")

    assert "Proefimport (er is niets veranderd)" in output
    assert pupils_line(created=60) in output
    assert "Groepen: 8 nieuw, 0 gewijzigd." in output
    assert (
        "Leerkrachten: 6 nieuw, 0 gewijzigd, 0 niet meer in het bestand (groepen eraf)." in output
    )
    for model in (School, Group, Pupil, User, StaffMembership):
        assert not model.objects.exists(), model
    log = ImportLog.objects.get()
    assert (log.ok, log.dry_run, log.school) == (True, True, None)
    assert log.counts == counts(created=60, groups_created=8, teachers_created=6)


def test_a_dry_run_of_next_year_changes_nothing_at_an_existing_school(sample_school, tmp_path):
    root = sample()
    remove_pupil(root, "100054")
    add_pupil(root, "200001", "Fien", "Bakker", "GRP1", "1")
    before = snapshot()

    output = import_edexml(write(tmp_path, root), "--dry-run")

    assert pupils_line(created=1, left=1, unchanged=59) in output
    assert snapshot() == before
    log = latest_log()
    assert (log.dry_run, log.school) == (True, sample_school)


def test_an_account_that_exists_already_is_used_for_the_teacher(today, tmp_path):
    existing = make_user("k.bos@verzonnenvlinder.example")
    root = sample()
    teacher = root.find("leerkrachten/leerkracht[@key='LK04']")
    set_text(teacher, "emailadres", " K.Bos@VerzonnenVlinder.example ")

    output = import_edexml(write(tmp_path, root))

    assert (
        "Leerkrachten: 6 nieuw, 0 gewijzigd, 0 niet meer in het bestand (groepen eraf)." in output
    )
    assert User.objects.count() == 6
    membership = StaffMembership.objects.get(user=existing)
    assert {group.name for group in membership.groups.all()} == {"Groep 5", "Groep 6"}
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)  # the import does not touch a password


# --- the next school year ------------------------------------------------------------------


def give_portal_state(key: str, parent: str) -> Pupil:
    """What only the portal knows: PIN, pictures, a parent, home login on."""
    item = pupil(key)
    item.set_pin("2468")
    item.set_picture_password(["kat", "zon"])
    item.home_login_enabled = True
    item.save()
    set_parent_emails(item, [parent])
    return item


def portal_state(item: Pupil) -> tuple:
    item = Pupil.objects.get(pk=item.pk)
    links = tuple(item.parent_links.values_list("user__email", "slot"))
    return (item.pin_hash, item.picture_password_hash, item.home_login_enabled, links)


def next_year() -> ET.Element:
    """The sample in 2025-2026: two pupils gone, three new, one moved, one renamed, one with a
    leaving date in the past and one with a leaving date still ahead; a teacher with another
    group and a new teacher."""
    root = sample()
    set_text(root.find("school"), "schooljaar", "2025-2026")
    remove_pupil(root, "100054")
    remove_pupil(root, "100055")  # has an ECK iD
    add_pupil(root, "200001", "Fien", "Bakker", "GRP1", "1")
    add_pupil(root, "200002", "Jip", "Berg", "GRP1", "1", infix="van den")
    add_pupil(root, "200003", "Olivia", "Smit", "GRP3", "3", eckid="https://ketenid.nl/new/1")
    leerling(root, "100020").find("groep").set("key", "GRP4")  # Mats Kok: another group
    set_text(leerling(root, "100031"), "roepnaam", "Jules")  # was Julian
    set_text(leerling(root, "100030"), "uitstroomdatum", "2025-07-15")
    set_text(leerling(root, "100040"), "uitstroomdatum", "2025-12-19")
    hoekstra = root.find("leerkrachten/leerkracht[@key='LK02']")
    hoekstra.find("groepen/groep").set("key", "GRP4")
    add_teacher(root, "LK07", "n.nieuw@verzonnenvlinder.example", "Nina", "Nieuw", ["GRP1"])
    return root


def test_next_year_syncs_and_keeps_what_only_the_portal_knows(sample_school, tmp_path):
    moved = give_portal_state("100020", "ouder.mats@example.com")
    renamed = give_portal_state("100031", "ouder.julian@example.com")
    staying = give_portal_state("100010", "ouder.kian@example.com")
    gone = give_portal_state("100054", "ouder.yara@example.com")
    leaving = give_portal_state("100030", "ouder.emma@example.com")
    kept = {item.pk: portal_state(item) for item in (moved, renamed, staying)}
    possible = Pupil.objects.home_login_possible()
    assert set(possible) == {moved, renamed, staying, gone, leaving}

    output = import_edexml(write(tmp_path, next_year()))

    expected = counts(
        created=3, updated=1, moved=1, left=3, unchanged=55, teachers_created=1, teachers_updated=1
    )
    assert latest_log().counts == expected
    assert pupils_line(created=3, updated=1, moved=1, left=3, unchanged=55) in output
    assert "Groepen: 0 nieuw, 0 gewijzigd." in output
    assert (
        "Leerkrachten: 1 nieuw, 1 gewijzigd, 0 niet meer in het bestand (groepen eraf)." in output
    )
    assert NOTHING_CHANGES not in output

    assert pupil("100020").group.name == "Groep 4"
    assert pupil("100031").first_name == "Jules"
    for item in (moved, renamed, staying):
        assert portal_state(item) == kept[item.pk]
        assert pupil(item.external_key).left_on is None

    for key in ("100054", "100055"):
        item = pupil(key)
        assert (item.left_on, item.home_login_enabled) == (TODAY, False)
    assert pupil("100030").left_on == date(2025, 7, 15)
    assert not pupil("100030").home_login_enabled
    assert pupil("100040").left_on is None  # leaves at Christmas: still here
    # A pupil who left keeps their parents until the purge, but shows no tile any more.
    assert pupil("100054").parent_links.count() == 1
    assert set(Pupil.objects.home_login_possible()) == {moved, renamed, staying}
    assert Pupil.objects.filter(school=sample_school).active().count() == 60 + 3 - 3

    new = pupil("200003")
    assert (new.group.name, new.eck_id, new.home_login_enabled) == (
        "Groep 3",
        "https://ketenid.nl/new/1",
        False,
    )
    assert pupil("200002").infix == "van den"

    teaching = {
        m.user.email: {g.name for g in m.groups.all()}
        for m in StaffMembership.objects.filter(school=sample_school).select_related("user")
    }
    assert teaching == {
        **TEACHER_GROUPS,
        "r.hoekstra@verzonnenvlinder.example": {"Groep 4"},
        "n.nieuw@verzonnenvlinder.example": {"Groep 1"},
    }


def test_a_pupil_who_comes_back_is_back_with_home_login_still_off(sample_school, tmp_path):
    give_portal_state("100054", "ouder.yara@example.com")
    import_edexml(write(tmp_path, next_year(), "2025.xml"))
    assert pupil("100054").left_on == TODAY

    root = next_year()
    yara = leerling(sample(), "100054")
    root.find("leerlingen").append(yara)
    output = import_edexml(write(tmp_path, root, "2025-later.xml"))

    assert latest_log().counts == counts(returned=1, unchanged=61)
    assert pupils_line(returned=1, unchanged=61) in output
    item = pupil("100054")
    assert item.left_on is None
    assert not item.home_login_enabled  # a teacher switches it on again
    assert item.pin_hash  # the PIN is still there for when that happens
    assert item not in Pupil.objects.home_login_possible()
    assert pupil("100055").left_on == TODAY  # still gone


def test_a_pupil_found_by_eck_id_under_a_new_key_is_reported(sample_school, tmp_path):
    """The administration gave Elin a new key; her ECK iD says who she is."""
    elin = pupil("100002")
    root = sample()
    leerling(root, "100002").set("key", "900002")

    output = import_edexml(write(tmp_path, root))

    assert Pupil.objects.get(pk=elin.pk).external_key == "900002"
    assert Pupil.objects.filter(school=sample_school).count() == 60
    # Every pupil of the file is counted somewhere, and a change is not "nothing".
    assert sum(latest_log().counts[name] for name in ("created", "updated", "unchanged")) == 60
    assert NOTHING_CHANGES not in output


# --- combination groups and unknown elements -----------------------------------------------


def test_a_combination_group_keeps_each_pupils_own_year_level(today, tmp_path):
    root = edexml(
        groups=[("C56", "Groep 5/6", "C"), ("G7", "Groep 7", "7")],
        pupils=[
            ("P1", "Sem", "Smit", "C56", "5"),
            ("P2", "Zoë", "Mulder", "C56", "6"),
            ("P3", "Bo", "Kok", "G7"),  # no jaargroep of their own
        ],
    )
    import_edexml(write(tmp_path, root))

    combined = Group.objects.get(external_key="C56")
    assert combined.year_level == YearLevel.COMBINED
    sem, zoe, bo = (
        Pupil.objects.select_related("group").get(external_key=k) for k in ["P1", "P2", "P3"]
    )
    assert (sem.year_level, sem.effective_year_level) == ("5", "5")
    assert (zoe.year_level, zoe.effective_year_level) == ("6", "6")
    assert (bo.year_level, bo.effective_year_level) == ("", "7")

    Pupil.objects.update(home_login_enabled=True)
    publisher = Publisher.objects.create(name="Uitgeverij Klimop")
    product = Product.objects.create(
        publisher=publisher, name="Tafelturbo", launch_url="https://tafelturbo.example"
    )
    licence = Licence(
        school=combined.school,
        product=product,
        valid_from=date(2025, 8, 1),
        valid_until=date(2026, 7, 31),
        scope=Licence.Scope.YEAR_LEVELS,
    )
    licence.year_levels = ["6", "7"]
    licence.save()

    def names(item):
        return [p.name for p in products_for(Pupil.objects.get(pk=item.pk), TODAY)]

    assert names(zoe) == ["Tafelturbo"]
    assert names(bo) == ["Tafelturbo"]
    assert names(sem) == []


def test_an_unknown_element_is_skipped_with_a_warning(today, tmp_path):
    root = sample()
    ET.SubElement(root.find("school"), "schoolkleur").text = "oranje"
    for key in ("100001", "100002"):
        ET.SubElement(leerling(root, key), "lievelingsdier").text = "kat"

    output = import_edexml(write(tmp_path, root))

    assert "Let op: Onbekend onderdeel <lievelingsdier> in <leerling> overgeslagen (2×)." in output
    assert "Let op: Onbekend onderdeel <schoolkleur> in <school> overgeslagen (1×)." in output
    assert pupils_line(created=60) in output
    assert Pupil.objects.count() == 60
    log = latest_log()
    assert log.ok
    assert "Onbekend onderdeel <lievelingsdier> in <leerling> overgeslagen (2×)." in log.warnings


def test_a_newer_school_year_than_the_standard_knows_is_accepted(today, tmp_path):
    root = sample()
    set_text(root.find("school"), "schooljaar", "2031-2032")
    output = import_edexml(write(tmp_path, root))
    assert pupils_line(created=60) in output


# --- refusals: a clear message, nothing changed, a log -------------------------------------


def would_change() -> ET.Element:
    """A file that would change the sample school a lot, had it been accepted."""
    root = next_year()
    for key in ("100001", "100002", "100003"):
        remove_pupil(root, key)
    return root


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE EDEX [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<EDEX><school><schooljaar>2025-2026</schooljaar><brincode>99XX</brincode>
<commentaar>&lol9;</commentaar></school></EDEX>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE EDEX [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<EDEX><school><schooljaar>2025-2026</schooljaar><brincode>99XX</brincode>
<commentaar>&xxe;</commentaar></school>
<groepen><groep key="G"><naam>&xxe;</naam><jaargroep>1</jaargroep></groep></groepen>
</EDEX>
"""

HOSTILE_MESSAGE = "bevat een DTD, entiteiten of externe verwijzingen"


def with_doctype() -> bytes:
    declaration, rest = to_bytes(would_change()).split(b"\n", 1)
    return declaration + b'\n<!DOCTYPE EDEX SYSTEM "EDEXML.dtd">\n' + rest


def duplicate_key() -> bytes:
    root = would_change()
    leerling(root, "100005").set("key", "100004")
    return to_bytes(root)


def unknown_group() -> bytes:
    root = would_change()
    leerling(root, "100005").find("groep").set("key", "GRP9")
    return to_bytes(root)


def school_year(year: str):
    def make() -> bytes:
        root = would_change()
        set_text(root.find("school"), "schooljaar", year)
        return to_bytes(root)

    return make


def brin(code: str):
    def make() -> bytes:
        root = would_change()
        set_text(root.find("school"), "brincode", code)
        return to_bytes(root)

    return make


def other_root() -> bytes:
    root = would_change()
    root.tag = "EDEXML"
    return to_bytes(root)


def malformed() -> bytes:
    return b"<?xml version='1.0'?>\n<EDEX>\n  <school>\n</EDEX>\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (malformed, "Het bestand is geen geldige XML (regel 4,"),
        (other_root, "Dit is geen EDEXML-bestand: het begint met <EDEXML>"),
        (duplicate_key, "De leerlingsleutel '100004' komt twee keer voor."),
        (unknown_group, "Leerling '100005' staat in groep 'GRP9', die niet in het bestand staat."),
        (lambda: BILLION_LAUGHS, HOSTILE_MESSAGE),
        (lambda: XXE, HOSTILE_MESSAGE),
        (with_doctype, HOSTILE_MESSAGE),
        (school_year("2025-2027"), "Het schooljaar '2025-2027' klopt niet"),
        (school_year("2025/2026"), "Het schooljaar '2025/2026' klopt niet"),
        (brin("XX99"), "De BRIN-code 'XX99' in het bestand klopt niet."),
        (brin("99XXX"), "De BRIN-code '99XXX' in het bestand klopt niet."),
    ],
    ids=[
        "malformed",
        "other-root",
        "duplicate-key",
        "unknown-group",
        "billion-laughs",
        "xxe",
        "dtd",
        "school-year-2025-2027",
        "school-year-slash",
        "brin-letters-first",
        "brin-too-long",
    ],
)
def test_a_bad_file_is_refused_and_changes_nothing(sample_school, tmp_path, make, message):
    text = refused(write(tmp_path, make()))
    assert message in text
    assert "root:" not in text  # nothing of /etc/passwd in a message


def test_a_file_above_the_limit_is_refused_by_the_reader(sample_school, tmp_path, monkeypatch):
    monkeypatch.setattr("schools.imports.data.MAX_FILE_BYTES", 10_000)
    assert "Het bestand is groter dan" in refused(write(tmp_path, would_change()))


def test_a_file_above_the_limit_is_refused_by_the_command(sample_school, tmp_path, monkeypatch):
    """The command looks at the size before it reads the file; that refusal is logged too."""
    monkeypatch.setattr("schools.imports.data.MAX_FILE_BYTES", 10_000)
    before = snapshot()

    with pytest.raises(CommandError, match="Het bestand is groter dan"):
        import_edexml(write(tmp_path, would_change(), "groot.xml"))

    assert snapshot() == before
    refusals = ImportLog.objects.filter(ok=False)
    assert [log.file_name for log in refusals] == ["groot.xml"], "the refusal was not logged"


def test_a_group_name_taken_by_a_group_outside_the_file_is_refused(sample_school, tmp_path):
    """Refused after the sync began (groups are checked against the database): still nothing."""
    Group.objects.create(school=sample_school, name="Plusklas", year_level="S")
    root = would_change()
    set_text(root.find("groepen/groep[@key='GRP1']"), "naam", "Plusklas")
    assert "Na deze import zouden twee groepen 'Plusklas' heten" in refused(write(tmp_path, root))


def test_groups_can_swap_names_in_one_file(sample_school, tmp_path):
    root = sample()
    set_text(root.find("groepen/groep[@key='GRP5']"), "naam", "Groep 6")
    set_text(root.find("groepen/groep[@key='GRP6']"), "naam", "Groep 5")
    import_edexml(write(tmp_path, root))
    names = dict(Group.objects.filter(school=sample_school).values_list("external_key", "name"))
    assert names["GRP5"] == "Groep 6" and names["GRP6"] == "Groep 5"


def test_a_pupil_whose_leaving_date_is_long_past_is_kept_for_the_whole_retention(
    sample_school, tmp_path, settings, time_machine
):
    settings.LEFT_PUPIL_RETENTION_DAYS = 365
    root = sample()
    set_text(leerling(root, "100001"), "uitstroomdatum", "2015-01-01")
    import_edexml(write(tmp_path, root))
    assert pupil("100001").left_on.isoformat() == "2015-01-01"
    assert "0 leerlingen verwijderd" in purge()
    time_machine.shift(timedelta(days=366))
    assert "1 leerlingen verwijderd" in purge()


def test_a_pupil_cannot_take_over_another_pupils_record_by_eck_id(sample_school, tmp_path):
    """Anna (100002) gets a new ECK iD; a new pupil arrives with Anna's old one."""
    anna = give_portal_state("100002", "ouder.anna@example.com")
    old_eck = anna.eck_id
    root = sample()
    leerling(root, "100002").set("eckid", "https://ketenid.nl/201703/nieuw")
    add_pupil(root, "200001", "Bram", "Nieuw", "GRP1", eckid=old_eck)
    output = import_edexml(write(tmp_path, root))
    anna = pupil("100002")
    assert anna.first_name == "Elin" and anna.home_login_enabled
    assert ParentLink.objects.filter(pupil=anna, user__email="ouder.anna@example.com").exists()
    assert pupil("200001").first_name == "Bram" and not pupil("200001").home_login_enabled
    assert "1 nieuw, 1 gewijzigd" in output


def test_a_refusal_for_a_new_school_creates_no_school(today, tmp_path):
    root = edexml(
        brin="77AA",
        groups=[("G1", "Groep 1", "1")],
        pupils=[("P1", "Sem", "Smit", "G1"), ("P1", "Bo", "Kok", "G1")],
    )
    refused(write(tmp_path, root))
    assert not School.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"weg\.xml"):
        import_edexml(tmp_path / "weg.xml")


# --- purge_left_pupils ---------------------------------------------------------------------


def purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_left_pupils", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def left_pupils(cast, settings, time_machine):
    """Emma left 366 days ago, Daan exactly 365 days ago, Lotte still at school."""
    time_machine.move_to(NOW)
    settings.LEFT_PUPIL_RETENTION_DAYS = 365
    for pupil, days in ((cast.emma, 366), (cast.daan, 365)):
        pupil.mark_left(TODAY - timedelta(days=days))
        # Marked on the day itself: retention counts from the marking.
        Pupil.objects.filter(pk=pupil.pk).update(left_marked_on=TODAY - timedelta(days=days))
    return cast


def test_purge_deletes_pupils_who_left_longer_ago_than_the_retention(left_pupils):
    cast = left_pupils
    output = purge()

    assert "1 leerlingen verwijderd (langer dan 365 dagen vertrokken)." in output
    assert not Pupil.objects.filter(pk=cast.emma.pk).exists()
    assert set(Pupil.objects.all()) == {cast.daan, cast.lotte, cast.yara}
    assert not ParentLink.objects.filter(pupil_id=cast.emma.pk).exists()
    # Parent A is still Daan's parent; the account stays.
    assert ParentLink.objects.filter(pupil=cast.daan, user=cast.parent_a).exists()


def test_purge_follows_the_retention_setting(left_pupils, settings):
    settings.LEFT_PUPIL_RETENTION_DAYS = 30
    assert "2 leerlingen verwijderd (langer dan 30 dagen vertrokken)." in purge()
    assert set(Pupil.objects.all()) == {left_pupils.lotte, left_pupils.yara}


def test_purge_dry_run_deletes_nothing(left_pupils):
    before = snapshot()
    assert "1 vertrokken leerlingen zouden verwijderd worden." in purge("--dry-run")
    assert snapshot() == before


def test_purge_removes_pupils_an_import_marked_as_left_a_year_later(
    sample_school, tmp_path, time_machine, settings
):
    settings.LEFT_PUPIL_RETENTION_DAYS = 365
    give_portal_state("100054", "ouder.yara@example.com")
    import_edexml(write(tmp_path, next_year()))
    time_machine.shift(timedelta(days=366))

    assert "3 leerlingen verwijderd" in purge()
    assert not Pupil.objects.filter(external_key__in=["100030", "100054", "100055"]).exists()
    assert not ParentLink.objects.filter(user__email="ouder.yara@example.com").exists()
    assert Pupil.objects.count() == 60 + 3 - 3


# --- queries -------------------------------------------------------------------------------


def queries_for(data: bytes) -> int:
    with CaptureQueriesContext(connection) as context:
        outcome = run_import(ImportLog.Kind.EDEXML, data, "school.xml")
    assert not outcome.error, outcome.error
    return len(context.captured_queries)


def test_an_import_costs_the_same_number_of_queries_for_50_and_500_pupils(today):
    small = queries_for(generated(50, brin="11AA"))
    large = queries_for(generated(500, brin="22BB"))
    assert Pupil.objects.filter(school__brin="22BB").count() == 500
    assert small == large

    # The next year: every pupil one group on (all moved and updated), some teachers' groups.
    small_next = queries_for(generated(50, brin="11AA", shift=1))
    large_next = queries_for(generated(500, brin="22BB", shift=1))
    assert latest_log().counts["moved"] == 500
    assert small_next == large_next


def test_importing_an_unchanged_file_again_costs_no_more_queries(today):
    data = generated(300, brin="33CC")
    first = queries_for(data)
    again = queries_for(data)
    assert latest_log().counts["unchanged"] == 300
    assert again <= first


def test_a_teacher_with_an_invalid_address_is_skipped_with_a_warning(today, tmp_path):
    root = sample()
    add_teacher(root, "LK99", "geen adres@", "Piet", "Fout", groups=["GRP1"])
    output = import_edexml(write(tmp_path, root))
    assert "1 leerkracht(en) met een ongeldig e-mailadres overgeslagen." in output
    assert StaffMembership.objects.filter(school__brin="99XX").count() == 6


def test_an_eck_id_another_pupil_already_has_is_refused_without_change(sample_school, tmp_path):
    taken = pupil("100002").eck_id
    assert taken
    # 100002 is no longer in the file (marked left, keeping its ECK iD); 100001 claims it.
    root = sample()
    remove_pupil(root, "100002")
    leerling(root, "100001").set("eckid", taken)
    before = snapshot()
    message = refused(write(tmp_path, root))
    assert "botst met wat al in het portaal staat" in message
    assert snapshot() == before


def test_a_teacher_missing_from_the_file_loses_the_files_groups_but_not_others(
    sample_school, tmp_path
):
    plusklas = Group.objects.create(school=sample_school, name="Plusklas", year_level="S")
    membership = StaffMembership.objects.get(user__email="r.hoekstra@verzonnenvlinder.example")
    membership.groups.add(plusklas)  # linked by hand in admin
    root = sample()
    root.find("leerkrachten").remove(root.find("leerkrachten/leerkracht[@key='LK02']"))
    output = import_edexml(write(tmp_path, root))
    assert "1 niet meer in het bestand (groepen eraf)" in output
    assert set(membership.groups.all()) == {plusklas}
    # Someone still in the file keeps a group added by hand too.
    other = StaffMembership.objects.get(user__email="a.degroot@verzonnenvlinder.example")
    other.groups.add(plusklas)
    import_edexml(write(tmp_path, root))
    assert plusklas in other.groups.all()


def test_keys_longer_than_the_standard_allows_are_refused(sample_school, tmp_path):
    root = sample()
    leerling(root, "100001").set("key", "k" * 300)
    before = snapshot()
    assert "langer dan 256 tekens" in refused(write(tmp_path, root))
    assert snapshot() == before


def test_two_groups_with_one_name_are_refused(sample_school, tmp_path):
    root = sample()
    set_text(root.find("groepen/groep[@key='GRP2']"), "naam", "Groep 1")
    assert "De groepsnaam 'Groep 1' komt twee keer voor." in refused(write(tmp_path, root))
