"""Reading a CSV export: one pupil per line, for one school named on the command line.

Columns (header line, in any order; separator , or ;): key, voornaam, tussenvoegsel,
achternaam, groep, jaargroep; optional: geboortedatum (not kept), eckid, uitstroomdatum.
UTF-8 only (with or without BOM); anything else is refused with the line it fails on.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from schools.imports.data import GroupRow, ImportRefused, PupilRow, SchoolFile, check_size
from schools.imports.edexml import PORTAL_YEAR_LEVELS

REQUIRED = ("key", "voornaam", "tussenvoegsel", "achternaam", "groep", "jaargroep")
OPTIONAL = ("geboortedatum", "eckid", "uitstroomdatum")
QUOTE_PROBLEM = "een aanhalingsteken staat verkeerd of is niet afgesloten."


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportRefused(
            f"Regel {line}: het bestand is geen UTF-8. Sla het op als 'CSV UTF-8' en probeer "
            "het opnieuw."
        ) from None


def read_csv(data: bytes, brin: str, location_code: str) -> SchoolFile:
    check_size(len(data))
    text = _decode(data)
    if "\x00" in text:
        # Never a character of a name or key; the database cannot even store it (PostgreSQL).
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportRefused(
            f"Regel {line}: het bestand bevat een NUL-teken en is dus geen tekstbestand. Sla "
            "het op als 'CSV UTF-8' en probeer het opnieuw."
        )
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise ImportRefused("Het bestand is leeg.") from None
    except csv.Error:
        raise ImportRefused(f"Regel 1: {QUOTE_PROBLEM}") from None
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise ImportRefused(f"Regel 1: de kolom(men) {', '.join(missing)} ontbreken.")
    unknown = [column for column in header if column not in REQUIRED + OPTIONAL]
    result = SchoolFile(
        brin=brin, location_code=location_code, groups_by_name=True, has_eck_ids="eckid" in header
    )
    if unknown:
        result.warnings.append(f"Onbekende kolom(men) overgeslagen: {', '.join(unknown)}.")
    position = {column: header.index(column) for column in REQUIRED + OPTIONAL if column in header}
    groups: dict[str, GroupRow] = {}
    seen_keys, seen_eck = set(), set()
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ImportRefused(
                    f"Regel {line}: {len(row)} kolommen, de kopregel heeft er {len(header)}."
                )
            cell = {column: row[index].strip() for column, index in position.items()}
            key = cell["key"]
            if not key:
                raise ImportRefused(f"Regel {line}: de kolom key is leeg.")
            if len(key) > 256 or len(cell.get("eckid", "")) > 256:
                raise ImportRefused(f"Regel {line}: key of eckid is langer dan 256 tekens.")
            if key in seen_keys:
                raise ImportRefused(
                    f"Regel {line}: de leerlingsleutel '{key}' komt twee keer voor."
                )
            seen_keys.add(key)
            if not cell["voornaam"] or not cell["achternaam"] or not cell["groep"]:
                raise ImportRefused(f"Regel {line}: voornaam, achternaam of groep is leeg.")
            level = cell["jaargroep"].upper()
            if level not in PORTAL_YEAR_LEVELS:
                raise ImportRefused(f"Regel {line}: jaargroep '{cell['jaargroep']}' is onbekend.")
            eck_id = cell.get("eckid", "")
            if eck_id and eck_id in seen_eck:
                raise ImportRefused(f"Regel {line}: het ECK iD komt twee keer voor.")
            seen_eck.add(eck_id)
            left_on = None
            if cell.get("uitstroomdatum"):
                try:
                    left_on = date.fromisoformat(cell["uitstroomdatum"])
                except ValueError:
                    raise ImportRefused(
                        f"Regel {line}: uitstroomdatum '{cell['uitstroomdatum']}' is geen "
                        "datum (JJJJ-MM-DD)."
                    ) from None
            group_name = cell["groep"][:100]
            group = groups.setdefault(group_name, GroupRow(group_name, group_name, level))
            if group.year_level != level and group.year_level != "C":
                # Pupils of more than one year level in one group: a combination group.
                groups[group_name] = GroupRow(group_name, group_name, "C")
            result.pupils.append(
                PupilRow(
                    key=key,
                    first_name=cell["voornaam"][:100],
                    infix=cell["tussenvoegsel"][:10],
                    last_name=cell["achternaam"][:200],
                    group_key=group_name,
                    year_level=level if level != "C" else "",
                    eck_id=eck_id,
                    left_on=left_on,
                )
            )
    except csv.Error:
        raise ImportRefused(f"Regel {reader.line_num}: {QUOTE_PROBLEM}") from None
    result.groups = list(groups.values())
    return result
