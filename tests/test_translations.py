"""The English catalogue: complete, faithful to the placeholders, compiled, and in use."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

PO_FILE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")

# %(name)s, %(count)d, %(max_mb).1f, %s, %d ... but not a literal %%.
PERCENT_PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]"
)
BRACE_PLACEHOLDER = re.compile(r"(?<!\{)\{[^{}]*\}(?!\})")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0
    obsolete: bool = False

    @property
    def label(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


def parse_po(path: Path) -> list[Entry]:
    """A small .po reader: enough for what makemessages writes."""
    entries: list[Entry] = []
    entry = Entry()
    keyword: str | None = None  # the keyword that continuation lines ("...") add to
    slot = 0

    def finish() -> None:
        nonlocal entry, keyword
        if keyword is not None or entry.obsolete:
            entries.append(entry)
        entry, keyword = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if keyword == "msgstr" and not line.startswith(('"', "msgstr[")):
            finish()  # the msgstr lines end an entry, blank line or not
        if not line:
            continue
        if line.startswith("#~"):
            entry.obsolete = True  # kept as one entry per #~ line: enough to count them
            entry.line = number
            finish()
            continue
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.fullmatch(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")', line)
        if match:
            keyword, index, quoted = match.groups()
            slot = int(index or 0)
            entry.line = entry.line or number
        elif line.startswith('"') and keyword is not None:
            quoted = line
        else:
            raise AssertionError(f"{path.name} line {number}: cannot read {raw!r}")
        text = ast.literal_eval(quoted)
        if keyword == "msgctxt":
            entry.msgctxt = (entry.msgctxt or "") + text
        elif keyword == "msgid":
            entry.msgid += text
        elif keyword == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + text
        else:
            entry.msgstr[slot] = entry.msgstr.get(slot, "") + text
    finish()
    return entries


def placeholders(text: str, flags: set[str]) -> list[str]:
    found: list[str] = []
    # Without the flag, only named placeholders count: a bare "%" may be plain text there.
    if "python-format" not in flags:
        found += re.findall(r"%\(\w+\)\w", text)
    else:
        without_escapes = text.replace("%%", "")
        found += [match.group(0) for match in PERCENT_PLACEHOLDER.finditer(without_escapes)]
    if "python-brace-format" in flags:
        found += BRACE_PLACEHOLDER.findall(text)
    return sorted(found)


@pytest.fixture(autouse=True)
def back_to_the_default_language():
    """LanguageMiddleware activates the cookie's language and leaves it active on this thread.

    Without this, a test here that chose English would leave later tests (outside a request)
    speaking English.
    """
    yield
    translation.deactivate()


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return parse_po(PO_FILE)


@pytest.fixture(scope="module")
def messages(entries) -> list[Entry]:
    """The real messages: not the header, not obsolete (#~) leftovers."""
    return [entry for entry in entries if entry.msgid and not entry.obsolete]


def test_it_has_a_header_for_english(entries):
    header = next(entry for entry in entries if entry.msgid == "" and not entry.obsolete)
    text = header.msgstr[0]
    assert "Language: en\n" in text
    assert "Content-Type: text/plain; charset=UTF-8\n" in text
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in text
    assert "fuzzy" not in header.flags


def test_it_reads_a_sensible_number_of_messages(messages):
    # Guards the parser: an empty or unreadable file would pass the checks below vacuously.
    assert len(messages) > 100
    assert any(entry.msgid_plural for entry in messages)
    assert any(entry.msgctxt == "plaatje" for entry in messages)


def test_it_translates_every_message(messages):
    untranslated = []
    for entry in messages:
        forms = [0, 1] if entry.msgid_plural is not None else [0]
        if sorted(entry.msgstr) != forms or not all(entry.msgstr[i].strip() for i in forms):
            untranslated.append(entry.label)
    assert untranslated == []


def test_it_has_no_fuzzy_or_obsolete_entries(entries):
    assert [entry.label for entry in entries if "fuzzy" in entry.flags] == []
    assert [entry.label for entry in entries if entry.obsolete] == []


def test_it_keeps_every_placeholder(messages):
    wrong = []
    for entry in messages:
        expected = set(placeholders(entry.msgid, entry.flags))
        if entry.msgid_plural is not None:
            expected |= set(placeholders(entry.msgid_plural, entry.flags))
        for index, text in entry.msgstr.items():
            if set(placeholders(text, entry.flags)) != expected:
                wrong.append(f"{entry.label} msgstr[{index}]: {text!r}")
    assert wrong == []


def test_it_marks_messages_with_placeholders_as_python_format(messages):
    # makemessages flags them; without the flag the placeholder check above would skip them.
    unflagged = [
        entry.label
        for entry in messages
        if re.search(r"%\(\w+\)[sd]", entry.msgid) and "python-format" not in entry.flags
    ]
    assert unflagged == []


def test_it_has_a_compiled_catalogue_matching_the_po_file(messages):
    assert MO_FILE.exists(), "run: python manage.py compilemessages --ignore=.venv"
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    stale = []
    expected_keys = set()
    for entry in messages:
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            expected_keys.add(key)
            if entry.msgctxt is None:
                got = compiled.gettext(entry.msgid)
            else:
                got = compiled.pgettext(entry.msgctxt, entry.msgid)
            if got != entry.msgstr[0]:
                stale.append(f"{entry.label}: .mo has {got!r}")
        else:
            for index, count in ((0, 1), (1, 2)):
                expected_keys.add((key, index))
                if entry.msgctxt is None:
                    got = compiled.ngettext(entry.msgid, entry.msgid_plural, count)
                else:
                    got = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, count)
                if got != entry.msgstr[index]:
                    stale.append(f"{entry.label} msgstr[{index}]: .mo has {got!r}")
    assert stale == [], "run: python manage.py compilemessages --ignore=.venv"

    # Nothing left in the .mo that the .po no longer has (the "" key is the header).
    extra = set(compiled._catalog) - expected_keys - {""}
    assert extra == set(), "run: python manage.py compilemessages --ignore=.venv"
    assert compiled.info()["language"] == "en"
    assert compiled.charset().lower() == "utf-8"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext tools not installed")
def test_it_passes_msgfmt_checks(tmp_path):
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(PO_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_it_translates_our_strings_through_django():
    from schools.models import Pupil
    from schools.pictures import Picture

    with translation.override("en"):
        assert translation.gettext("Thuis inloggen aanzetten") == "Turn on home login"
        assert str(Pupil._meta.verbose_name) == "pupil"
        assert str(Pupil._meta.verbose_name_plural) == "pupils"
        assert translation.pgettext("plaatje", "kat") == "cat"
        assert str(Picture("kat").label) == "cat"
        assert (
            translation.ngettext(
                "De blokkade van %(count)d leerling is opgeheven.",
                "De blokkade van %(count)d leerlingen is opgeheven.",
                3,
            )
            % {"count": 3}
            == "3 pupils have been unlocked."
        )
    with translation.override("nl"):
        assert translation.gettext("Thuis inloggen aanzetten") == "Thuis inloggen aanzetten"
        assert str(Pupil._meta.verbose_name) == "leerling"
        assert str(Picture("kat").label) == "kat"


@pytest.mark.django_db
def test_it_shows_the_admin_login_in_english_when_chosen(client):
    dutch = client.get("/beheer/login/")
    assert "Thuisportaal beheer" in dutch.text
    assert "Thuisportaal admin" not in dutch.text

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/beheer/login/"})
    assert response.status_code == 302
    english = client.get("/beheer/login/")
    assert english["Content-Language"] == "en"
    assert "Thuisportaal admin" in english.text
    assert "Thuisportaal beheer" not in english.text


@pytest.mark.django_db
def test_it_explains_a_failed_admin_login_in_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/beheer/login/"})
    response = client.post(
        "/beheer/login/", {"username": "nobody@example.com", "password": "wrong-password"}
    )
    assert response.status_code == 200
    assert "Please enter the correct email address and password for a school account" in (
        response.text
    )


@pytest.mark.django_db
def test_it_shows_the_home_page_in_english_when_chosen(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.get("/")
    assert response["Content-Language"] == "en"
    assert "Home login" in response.text
    assert "Teacher login" in response.text
    assert "Inloggen voor leerkrachten" not in response.text
