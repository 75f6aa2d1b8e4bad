"""What a file says about a school, read but not yet applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

#: Bigger files are refused before they are read (the largest schools are well below).
MAX_FILE_BYTES = 20 * 1024 * 1024


class ImportRefused(Exception):
    """The file cannot be imported; the message says why, in Dutch, for the uploader."""


TOO_BIG = f"Het bestand is groter dan {MAX_FILE_BYTES // (1024 * 1024)} MB en is niet gelezen."


def check_size(size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise ImportRefused(TOO_BIG)


@dataclass(frozen=True)
class GroupRow:
    key: str
    name: str
    year_level: str


@dataclass(frozen=True)
class PupilRow:
    key: str
    first_name: str
    infix: str
    last_name: str
    group_key: str
    year_level: str
    eck_id: str = ""
    left_on: date | None = None


@dataclass(frozen=True)
class TeacherRow:
    key: str
    first_name: str
    infix: str
    last_name: str
    email: str
    group_keys: tuple[str, ...] = ()
    eck_id: str = ""


@dataclass
class SchoolFile:
    brin: str
    location_code: str
    school_year: str = ""
    school_name: str = ""
    groups: list[GroupRow] = field(default_factory=list)
    pupils: list[PupilRow] = field(default_factory=list)
    teachers: list[TeacherRow] = field(default_factory=list)
    #: Teachers come only from EDEXML; a CSV file says nothing about them.
    has_teachers: bool = False
    #: A CSV file names groups but has no keys for them: match on the name, keep the key.
    groups_by_name: bool = False
    #: False for a CSV file without an eckid column: the portal's ECK iDs then stay.
    has_eck_ids: bool = True
    warnings: list[str] = field(default_factory=list)
