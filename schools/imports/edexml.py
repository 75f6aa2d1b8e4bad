"""Reading an EDEXML 2.1 file (the export of a Dutch pupil administration system).

The file is untrusted: it is parsed with defusedxml (no DTDs, entities or external
references), refused above MAX_FILE_BYTES, and checked for what the sync relies on (unique
keys, known groups). Where the 2.1 standard has gone stale it is tolerant: school years after
2024-2025 are accepted, unknown elements are skipped with a warning.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from schools.imports.data import (
    GroupRow,
    ImportRefused,
    PupilRow,
    SchoolFile,
    TeacherRow,
    check_size,
)
from schools.models import BRIN_PATTERN, LOCATION_PATTERN

SCHOOL_YEAR = re.compile(r"(\d{4})-(\d{4})")
KEY_MAX = 256  # keys and ECK iDs, as the standard and the database allow
PORTAL_YEAR_LEVELS = {"1", "2", "3", "4", "5", "6", "7", "8", "S", "C"}

KNOWN = {
    "EDEX": {"school", "vestigingen", "groepen", "leerlingen", "leerkrachten"},
    "school": {
        "schooljaar", "peildatum", "brincode", "dependancecode", "schoolkey",
        "instellingsnummer", "aanmaakdatum", "auteur", "xsdversie", "commentaar",
        "toevoegingen",
    },
    "groep": {"naam", "jaargroep", "omschrijving", "toevoegingen", "mutatiedatum"},
    "leerling": {
        "achternaam", "voorvoegsel", "voornamen", "voorletters-1", "roepnaam",
        "geboortedatum", "geslacht", "start_ondw_jgr3", "jaargroep", "groep",
        "samengestelde_groepen", "vestiging", "gebruikersnaam", "emailadres", "fotourl",
        "etniciteit", "land", "land_vader", "land_moeder", "sofinummer", "bsn",
        "onderwijsnummer", "bsn_ondwnr-4", "rijksregisternummer", "gewicht_nieuw", "gewicht",
        "postcodenl", "postnummerbe", "postcodeoverig", "instroomdatum", "uitstroomdatum",
        "toevoegingen", "mutatiedatum",
    },
    "leerkracht": {
        "achternaam", "voorvoegsel", "voornamen", "voorletters-1", "roepnaam",
        "gebruikersnaam", "emailadres", "rol", "rolomschrijving", "groepen", "toevoegingen",
        "mutatiedatum",
    },
}  # fmt: skip


def read_edexml(data: bytes) -> SchoolFile:
    check_size(len(data))
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ImportRefused(
            "Het bestand bevat een DTD, entiteiten of externe verwijzingen. Die zijn niet "
            "toegestaan in een EDEXML-bestand; er is niets ingelezen."
        ) from None
    except ParseError as error:
        line, column = error.position
        raise ImportRefused(
            f"Het bestand is geen geldige XML (regel {line}, kolom {column + 1})."
        ) from None
    if root.tag != "EDEX":
        raise ImportRefused(
            f"Dit is geen EDEXML-bestand: het begint met <{root.tag}> in plaats van <EDEX>."
        )
    reader = _Reader()
    return reader.read(root)


def _text(element: Element | None, name: str) -> str:
    child = element.find(name) if element is not None else None
    return (child.text or "").strip() if child is not None else ""


def _check_length(value: str, what: str) -> None:
    if len(value) > KEY_MAX:
        raise ImportRefused(f"Een {what} in het bestand is langer dan {KEY_MAX} tekens.")


def _date(value: str, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ImportRefused(f"{what}: '{value}' is geen datum (JJJJ-MM-DD).") from None


class _Reader:
    def __init__(self):
        self.unknown: Counter[tuple[str, str]] = Counter()
        self.warnings: list[str] = []

    def check_children(self, element: Element) -> None:
        known = KNOWN.get(element.tag, set())
        for child in element:
            if child.tag not in known:
                self.unknown[(element.tag, child.tag)] += 1

    def read(self, root: Element) -> SchoolFile:
        self.check_children(root)
        school = root.find("school")
        if school is None:
            raise ImportRefused("Het bestand mist het onderdeel <school>.")
        self.check_children(school)
        brin = _text(school, "brincode").upper()
        location = _text(school, "dependancecode") or "00"
        if not re.fullmatch(BRIN_PATTERN, brin):
            raise ImportRefused(f"De BRIN-code '{brin}' in het bestand klopt niet.")
        if not re.fullmatch(LOCATION_PATTERN, location):
            raise ImportRefused(f"De vestigingscode '{location}' in het bestand klopt niet.")
        school_year = _text(school, "schooljaar")
        match = SCHOOL_YEAR.fullmatch(school_year)
        if not match or int(match[2]) != int(match[1]) + 1:
            raise ImportRefused(f"Het schooljaar '{school_year}' klopt niet (zoals 2025-2026).")
        result = SchoolFile(brin=brin, location_code=location, school_year=school_year)
        result.groups = self.read_groups(root)
        known_groups = {group.key for group in result.groups}
        result.pupils = self.read_pupils(root, known_groups)
        result.teachers = self.read_teachers(root, known_groups)
        result.has_teachers = root.find("leerkrachten") is not None
        for (parent, child), count in sorted(self.unknown.items()):
            self.warnings.append(
                f"Onbekend onderdeel <{child}> in <{parent}> overgeslagen ({count}×)."
            )
        result.warnings = self.warnings
        return result

    def read_groups(self, root: Element) -> list[GroupRow]:
        groups, seen, names, composite = [], set(), set(), 0
        for element in root.findall("groepen/*"):
            if element.tag == "samengestelde_groep":
                composite += 1
                continue
            if element.tag != "groep":
                self.unknown[("groepen", element.tag)] += 1
                continue
            self.check_children(element)
            key = (element.get("key") or "").strip()
            name = _text(element, "naam")
            if not key or not name:
                raise ImportRefused("Een groep in het bestand heeft geen sleutel of naam.")
            if key in seen:
                raise ImportRefused(f"De groepssleutel '{key}' komt twee keer voor.")
            seen.add(key)
            _check_length(key, "groepssleutel")
            if name[:100] in names:
                raise ImportRefused(f"De groepsnaam '{name[:100]}' komt twee keer voor.")
            names.add(name[:100])
            level = _text(element, "jaargroep").upper()
            if level not in PORTAL_YEAR_LEVELS:
                self.warnings.append(
                    f"Groep {name}: jaargroep '{level}' is onbekend in het portaal; "
                    "de groep telt als speciaal (S)."
                )
                level = "S"
            groups.append(GroupRow(key=key, name=name[:100], year_level=level))
        if composite:
            self.warnings.append(
                f"{composite} samengestelde groep(en) overgeslagen: het portaal gebruikt "
                "alleen de stamgroep van een leerling."
            )
        return groups

    def read_pupils(self, root: Element, known_groups: set[str]) -> list[PupilRow]:
        pupils, seen_keys, seen_eck = [], set(), set()
        without_group = 0
        for element in root.findall("leerlingen/leerling"):
            self.check_children(element)
            key = (element.get("key") or "").strip()
            if not key:
                raise ImportRefused("Een leerling in het bestand heeft geen sleutel.")
            if key in seen_keys:
                raise ImportRefused(f"De leerlingsleutel '{key}' komt twee keer voor.")
            seen_keys.add(key)
            _check_length(key, "leerlingsleutel")
            eck_id = (element.get("eckid") or "").strip()
            _check_length(eck_id, "ECK iD")
            if eck_id:
                if eck_id in seen_eck:
                    raise ImportRefused(f"Het ECK iD van leerling '{key}' komt twee keer voor.")
                seen_eck.add(eck_id)
            group = element.find("groep")
            group_key = (group.get("key") or "").strip() if group is not None else ""
            if not group_key:
                without_group += 1
                continue
            if group_key not in known_groups:
                raise ImportRefused(
                    f"Leerling '{key}' staat in groep '{group_key}', die niet in het bestand staat."
                )
            first = _text(element, "roepnaam") or _text(element, "voornamen").split(" ")[0]
            last = _text(element, "achternaam")
            if not first or not last:
                raise ImportRefused(f"Leerling '{key}' heeft geen roepnaam of achternaam.")
            level = _text(element, "jaargroep").upper()
            pupils.append(
                PupilRow(
                    key=key,
                    first_name=first[:100],
                    infix=_text(element, "voorvoegsel")[:10],
                    last_name=last[:200],
                    group_key=group_key,
                    year_level=level if level in PORTAL_YEAR_LEVELS - {"C"} else "",
                    eck_id=eck_id,
                    left_on=_date(_text(element, "uitstroomdatum"), f"Leerling '{key}'"),
                )
            )
        if without_group:
            self.warnings.append(
                f"{without_group} leerling(en) zonder groep overgeslagen (en als vertrokken "
                "gemarkeerd als ze in het portaal stonden)."
            )
        return pupils

    def read_teachers(self, root: Element, known_groups: set[str]) -> list[TeacherRow]:
        teachers, without_email = [], 0
        seen = set()
        for element in root.findall("leerkrachten/leerkracht"):
            self.check_children(element)
            key = (element.get("key") or "").strip()
            if key and key in seen:
                raise ImportRefused(f"De leerkrachtsleutel '{key}' komt twee keer voor.")
            seen.add(key)
            email = _text(element, "emailadres")
            if not email:
                without_email += 1
                continue
            group_keys = tuple(
                sorted(
                    (reference.get("key") or "").strip()
                    for reference in element.findall("groepen/groep")
                    if (reference.get("key") or "").strip() in known_groups
                )
            )
            teachers.append(
                TeacherRow(
                    key=key,
                    first_name=_text(element, "roepnaam")
                    or _text(element, "voornamen").split(" ")[0],
                    infix=_text(element, "voorvoegsel"),
                    last_name=_text(element, "achternaam"),
                    email=email,
                    group_keys=group_keys,
                    eck_id=(element.get("eckid") or "").strip(),
                )
            )
        if without_email:
            self.warnings.append(
                f"{without_email} leerkracht(en) zonder e-mailadres overgeslagen: zonder adres "
                "kan het portaal geen account maken."
            )
        return teachers
