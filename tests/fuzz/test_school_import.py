"""Importing a school's file in admin (upload → preview → confirm), with mutated files.

A refused file changes nothing but the import log; a preview changes nothing but the import
log; a confirmed import changes exactly what its preview announced.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from schools.imports.data import MAX_FILE_BYTES
from schools.models import Group, ImportLog, Pupil, StaffMembership
from tests.fuzz import strategies as fuzzed
from tests.fuzz.strategies import mostly
from tests.fuzz.support import (
    changed_counts,
    logged_in,
    no_server_error,
    row_counts,
    with_fixtures,
)

#: Keys from a small set, so that files name the same key twice now and then.
KEYS = mostly(st.sampled_from(["G2", "G5", "G7", "G8"]), st.sampled_from(["", "g5", " G5 ", "G9"]))
PUPIL_KEYS = mostly(
    st.sampled_from([f"P{n}" for n in range(1, 9)]), st.one_of(st.just(""), fuzzed.text(8))
)
LEVELS = mostly(
    st.sampled_from(["1", "2", "5", "7", "8", "S"]),
    st.one_of(st.sampled_from(["C", "s", "9", "", "groep 5"]), fuzzed.text(3)),
)
DATES = mostly(
    st.sampled_from(["", "2020-07-01", "2999-07-01"]),
    st.one_of(st.sampled_from(["2025-13-01", "01-07-2025"]), fuzzed.text(10)),
)
NAMES = mostly(
    st.sampled_from(["Emma", "Daan", "Noah", "Zoë", "Visser", "Bakker", "O'Neill"]), fuzzed.names()
)
INFIXES = mostly(st.sampled_from(["", "van", "de", "van der"]), fuzzed.text(12))
ECK_IDS = mostly(
    st.sampled_from(["", "https://ketenid.nl/1", "https://ketenid.nl/2"]), fuzzed.text(10)
)
ADDRESSES = mostly(
    st.sampled_from(["juf.x@regenboog.nl", "nieuw@regenboog.nl", "Meester@Regenboog.nl"]),
    fuzzed.emails(),
)


def group_rows():
    names = mostly(st.sampled_from(["Groep 5", "Groep 2", "Groep 8", "Groep 7"]), fuzzed.names())
    return st.lists(st.tuples(KEYS, names, LEVELS), max_size=4)


def pupil_rows():
    return st.lists(
        st.tuples(PUPIL_KEYS, NAMES, INFIXES, NAMES, KEYS, LEVELS, ECK_IDS, DATES), max_size=6
    )


def teacher_rows():
    return st.lists(st.tuples(PUPIL_KEYS, NAMES, ADDRESSES, st.lists(KEYS, max_size=2)), max_size=3)


#: Characters XML 1.0 cannot hold at all; the byte mutations still put them in now and then.
NOT_IN_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def edexml(brin, location, year, groups, pupils, teachers) -> bytes:
    root = ET.Element("EDEX")
    school = ET.SubElement(root, "school")
    for tag, value in (("schooljaar", year), ("brincode", brin), ("dependancecode", location)):
        ET.SubElement(school, tag).text = value
    groepen = ET.SubElement(root, "groepen")
    for key, name, level in groups:
        groep = ET.SubElement(groepen, "groep", key=key)
        ET.SubElement(groep, "naam").text = name
        ET.SubElement(groep, "jaargroep").text = level
    leerlingen = ET.SubElement(root, "leerlingen")
    for key, first, infix, last, group, level, eck_id, left in pupils:
        leerling = ET.SubElement(leerlingen, "leerling", key=key, eckid=eck_id)
        for tag, value in (
            ("achternaam", last),
            ("voorvoegsel", infix),
            ("roepnaam", first),
            ("jaargroep", level),
            ("uitstroomdatum", left),
        ):
            ET.SubElement(leerling, tag).text = value
        ET.SubElement(leerling, "groep", key=group)
    if teachers is not None:
        leerkrachten = ET.SubElement(root, "leerkrachten")
        for key, name, email, groups_of in teachers:
            leerkracht = ET.SubElement(leerkrachten, "leerkracht", key=key)
            ET.SubElement(leerkracht, "achternaam").text = name
            ET.SubElement(leerkracht, "emailadres").text = email
            links = ET.SubElement(leerkracht, "groepen")
            for group in groups_of:
                ET.SubElement(links, "groep", key=group)
    for element in root.iter():
        element.text = NOT_IN_XML.sub("", element.text or "")
        for name, value in element.attrib.items():
            element.set(name, NOT_IN_XML.sub("", value))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@st.composite
def edexml_files(draw) -> bytes:
    # The school's own part is mostly right, so that the groups and pupils get read too.
    return edexml(
        draw(mostly(st.just("12AB"), st.sampled_from(["12ab", "34CD", "1AB", ""]), times=8)),
        draw(mostly(st.just("00"), st.sampled_from(["", "01", "0", "000"]), times=8)),
        draw(mostly(st.just("2025-2026"), st.sampled_from(["2025-2027", "2025/2026"]), times=8)),
        draw(group_rows()),
        draw(pupil_rows()),
        draw(st.one_of(st.none(), teacher_rows())),
    )


CSV_COLUMNS = [
    "key",
    "voornaam",
    "tussenvoegsel",
    "achternaam",
    "groep",
    "jaargroep",
    "eckid",
    "uitstroomdatum",
]


@st.composite
def csv_files(draw) -> bytes:
    header = draw(
        mostly(
            st.permutations(CSV_COLUMNS),
            st.lists(
                st.one_of(
                    st.sampled_from([*CSV_COLUMNS, "KEY", "geboortedatum", "extra"]), fuzzed.text(8)
                ),
                max_size=9,
            ),
            times=5,
        )
    )
    delimiter = draw(mostly(st.sampled_from([",", ";"]), st.just("\t")))
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"]))
    )
    writer.writerow(header)
    for key, first, infix, last, group, level, eck_id, left in draw(pupil_rows()):
        values = {
            "key": key,
            "voornaam": first,
            "tussenvoegsel": infix,
            "achternaam": last,
            "groep": group and f"Groep {group}",
            "jaargroep": level,
            "eckid": eck_id,
            "uitstroomdatum": left,
        }
        cells = [values.get(column, "x") for column in header]
        if not draw(st.integers(0, 9)):
            cells = cells[: draw(st.integers(0, len(cells)))] or cells  # a line too short
        writer.writerow(cells)
    text = out.getvalue()
    encoding = draw(
        mostly(
            st.sampled_from(["utf-8", "utf-8-sig"]),
            st.sampled_from(["utf-16", "latin-1"]),
            times=8,
        )
    )
    return text.encode(encoding, errors="replace")


@st.composite
def mutated(draw, files) -> bytes:
    """A file, and now and then a few bytes of it changed, cut or added."""
    data = bytearray(draw(files))
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 0, 0, 1, 2, 3]))):
        how = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "nul"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if how == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif how == "insert":
            data[at:at] = draw(
                st.sampled_from(
                    [
                        b"<",
                        b"&",
                        b"\x00",
                        b'"',
                        b";",
                        b"\n",
                        b"<!DOCTYPE x [<!ENTITY a 'b'>]>",
                        b"]]>",
                    ]
                )
            )
        elif how == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        elif how == "truncate":
            del data[at:]
        else:
            data[at:at] = b"\x00"
    return bytes(data)


def school_data(school) -> tuple:
    """What an import may change, as the database has it now."""
    return (
        list(Pupil.objects.filter(school=school).order_by("pk").values()),
        list(Group.objects.filter(school=school).order_by("pk").values()),
        list(
            StaffMembership.objects.filter(school=school)
            .order_by("pk")
            .values("pk", "user__email", "role", "groups")
        ),
    )


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE EDEX [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
    b"<EDEX><school><brincode>&b;</brincode></school></EDEX>"
)
EXTERNAL_ENTITY = b'<?xml version="1.0"?><!DOCTYPE EDEX [<!ENTITY x SYSTEM "file:///etc/passwd">]><EDEX>&x;</EDEX>'


A_GOOD_FILE = edexml(
    "12AB",
    "00",
    "2025-2026",
    [("G5", "Groep 5", "5"), ("G6", "Groep 6", "6")],
    [
        ("E1", "Emma", "", "Visser", "G6", "6", "", ""),
        ("N1", "Noah", "van", "Bakker", "G5", "5", "https://ketenid.nl/1", ""),
        ("L1", "Lotte", "", "Dekker", "G5", "5", "", "2020-07-01"),
    ],
    [
        ("T1", "Kok", " Meester.K@Regenboog.nl ", ["G5", "G6"]),
        ("T2", "X", "juf.x@regenboog.nl", ["G6"]),
    ],
)
A_GOOD_CSV = (
    "key;voornaam;tussenvoegsel;achternaam;groep;jaargroep;eckid\n"
    "E1;Emma;;Visser;Groep 6;6;\nN1;Noah;van;Bakker;Groep 5/6;5;\nZ1;Zoë;;Ağaoğlu;Groep 5/6;6;\n"
).encode()


@with_fixtures
@example(data=A_GOOD_FILE, name="school.xml")
@example(data=A_GOOD_CSV, name="school.csv")
@example(data=BILLION_LAUGHS, name="school.xml")
@example(data=EXTERNAL_ENTITY, name="school.xml")
@example(
    data=b"key,voornaam,tussenvoegsel,achternaam,groep,jaargroep\nP1,Em\x00ma,,Vis,Groep 5,5\n",
    name="school.csv",
)
@example(
    data=b"key,voornaam,tussenvoegsel,achternaam,groep,jaargroep,extra\x00\n"
    b"P1,Emma,,Vis,Groep 5,5,x\n",
    name="school.csv",
)
@example(
    data=b"key,voornaam,tussenvoegsel,achternaam,groep,jaargroep\nP\x00,E,,V,G,5\nP\x00,E,,V,G,5\n",
    name="school.csv",
)
@example(data=b" " * (MAX_FILE_BYTES + 1), name="groot.csv")
@given(
    data=st.one_of(mutated(edexml_files()), mutated(csv_files())),
    name=st.sampled_from(
        ["school.xml", "school.csv", "school.XML", "school", "school.txt", "\x00.xml"]
    ),
)
def test_coordinator_imports_a_file(cast, fuzz, data, name):
    school = cast.school_x
    url = reverse("admin:schools_school_import", args=[school.pk])
    with fuzz.example():
        client = logged_in(cast.ict_x)
        before, data_before = row_counts(), school_data(school)
        response = client.post(url, {"file": SimpleUploadedFile(name, data)})
        no_server_error(response)
        assert response.status_code == 200
        preview = response.context.get("preview")
        if preview is None:
            fuzz.note("refused")
            assert response.context["form"].errors
            # A file that could not be read is logged, with the reason; nothing else changes.
            assert changed_counts(before) in ({}, {"schools.ImportLog": 1})
            assert ImportLog.objects.filter(ok=True).count() == 0
            assert school_data(school) == data_before
            return
        assert changed_counts(before) == {"schools.ImportLog": 1}
        assert school_data(school) == data_before
        if not response.context["changes"]:
            fuzz.note("nothing to change")
            return
        fuzz.note("previewed")
        announced = ImportLog.objects.get(pk=preview.pk).counts
        before = row_counts()
        response = client.post(url, {"confirm": str(preview.code)})
        no_server_error(response)
        assert response.status_code == 302
        log = ImportLog.objects.get(dry_run=False)
        changes = changed_counts(before)
        if not log.ok:  # refused at the last moment: logged, and nothing else
            fuzz.note("refused on confirm")
            assert changes == {"schools.ImportLog": 1}
            assert school_data(school) == data_before
            return
        fuzz.note("imported")
        assert log.counts == announced
        expected = {
            "schools.ImportLog": 1,
            "schools.Pupil": announced["created"],
            "schools.Group": announced["groups_created"],
            "schools.StaffMembership": announced["teachers_created"],
        }
        links = changes.pop("schools.StaffMembership_groups", 0)
        new_users = changes.pop("accounts.User", 0)
        assert changes == {k: v for k, v in expected.items() if v}
        assert 0 <= new_users <= announced["teachers_created"]
        teachers = ("teachers_created", "teachers_updated", "teachers_left")
        assert not links or any(announced[name] for name in teachers)
        for pupil in Pupil.objects.filter(school=school):
            for value in (pupil.first_name, pupil.infix, pupil.last_name, pupil.external_key):
                assert "\x00" not in value
