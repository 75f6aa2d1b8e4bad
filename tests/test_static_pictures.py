"""The picture-password pictures and the product icons: safe, self-contained, scalable SVG."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parent.parent / "static"
PICTURES = STATIC / "pictures"
PRODUCTS = STATIC / "products"

SVG_NS = "http://www.w3.org/2000/svg"
SVG = f"{{{SVG_NS}}}"

PICTURE_NAMES = {
    "zon",
    "appel",
    "auto",
    "vis",
    "ster",
    "huis",
    "boom",
    "kat",
    "bal",
    "maan",
    "bloem",
    "boot",
}
PRODUCT_NAMES = {
    "rekenrups": "Rekenrups",
    "taaltuin": "Taaltuin",
    "klokkijken": "Klokkijken",
    "woordwolk": "Woordwolk",
    "tafelturbo": "Tafelturbo",
    "spellingspoor": "Spellingspoor",
    "wereldwijs": "Wereldwijs",
    "natuurlab": "Natuurlab",
}

FORBIDDEN = ("<script", "<text", "<image", "<style", " style=", "href=", "<foreignobject")
OUTLINE_AND_NEUTRAL = {"#1d2433", "#fff", "#ffffff", "white", "none", "transparent"}

PICTURE_FILES = sorted(PICTURES.glob("*.svg"))
PRODUCT_FILES = sorted(PRODUCTS.glob("*.svg"))
ALL_FILES = PICTURE_FILES + PRODUCT_FILES


def ids(paths):
    return [f"{p.parent.name}/{p.name}" for p in paths]


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse(path: Path) -> ET.Element:
    # The files are the project's own artwork, not uploads; the test also rejects DTDs.
    return ET.parse(path).getroot()  # noqa: S314


def fills(path: Path) -> set[str]:
    root = parse(path)
    colours = {el.get("fill", "").strip().lower() for el in root.iter()}
    return colours - OUTLINE_AND_NEUTRAL - {""}


def test_it_has_exactly_the_twelve_pictures():
    assert {p.stem for p in PICTURE_FILES} == PICTURE_NAMES
    assert {p.name for p in PICTURES.iterdir()} == {f"{name}.svg" for name in PICTURE_NAMES}


def test_it_has_the_eight_product_icons():
    assert {p.stem for p in PRODUCT_FILES} == set(PRODUCT_NAMES)


@pytest.mark.parametrize("path", ALL_FILES, ids=ids(ALL_FILES))
def test_it_is_a_scalable_accessible_svg(path):
    root = parse(path)
    assert root.tag == f"{SVG}svg"
    assert re.search(r'xmlns="http://www\.w3\.org/2000/svg"', path.read_text())
    assert root.get("viewBox") == "0 0 100 100"
    assert root.get("width") is None
    assert root.get("height") is None
    assert root.get("role") == "img"

    children = list(root)
    assert children, "empty drawing"
    title = children[0]
    assert title.tag == f"{SVG}title", "the <title> must be the first child"
    assert title.text
    assert title.text.strip() == root.get("aria-label")
    assert len(root.findall(f".//{SVG}title")) == 1


@pytest.mark.parametrize("path", PICTURE_FILES, ids=ids(PICTURE_FILES))
def test_it_titles_each_picture_with_its_dutch_name(path):
    root = parse(path)
    assert root.find(f"{SVG}title").text == path.stem
    assert root.get("aria-label") == path.stem


@pytest.mark.parametrize("path", PRODUCT_FILES, ids=ids(PRODUCT_FILES))
def test_it_titles_each_product_with_its_name(path):
    root = parse(path)
    assert root.find(f"{SVG}title").text == PRODUCT_NAMES[path.stem]
    assert root.get("aria-label") == PRODUCT_NAMES[path.stem]


@pytest.mark.parametrize("path", ALL_FILES, ids=ids(ALL_FILES))
def test_it_contains_nothing_active_styled_or_external(path):
    source = path.read_text().lower()
    for needle in FORBIDDEN:
        assert needle not in source, needle
    assert "url(http" not in source
    assert "<!doctype" not in source
    assert "<!entity" not in source

    for el in parse(path).iter():
        assert local(el.tag) not in {"script", "text", "image", "style", "foreignObject", "use"}
        for name in el.attrib:
            attribute = local(name).lower()
            assert not attribute.startswith("on"), f"event handler {name} on {el.tag}"
            assert attribute not in {"style", "href"}


@pytest.mark.parametrize("path", ALL_FILES, ids=ids(ALL_FILES))
def test_it_keeps_each_file_small(path):
    assert path.stat().st_size < 3 * 1024


def test_it_makes_no_two_pictures_identical():
    contents = [p.read_bytes() for p in PICTURE_FILES]
    assert len(set(contents)) == len(contents)


def test_it_gives_each_picture_a_colour_of_its_own():
    colours = {p.stem: fills(p) for p in PICTURE_FILES}
    for name, own in colours.items():
        assert own, f"{name} has no fill colours"
        others = set().union(*(c for other, c in colours.items() if other != name))
        assert not own <= others, f"{name} shares all its colours with other pictures"
