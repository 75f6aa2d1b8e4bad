"""Hostile input: text, e-mail addresses, PINs, picture sequences, files."""

from __future__ import annotations

import contextlib
import io
import struct
import zlib

from hypothesis import strategies as st
from PIL import Image

from schools.pictures import Picture

#: C0 and C1 control characters and DEL, NUL first (PostgreSQL refuses it in text).
CONTROL = "".join(chr(code) for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)))
#: Characters that change length when lower-cased, join, reverse, hide or combine.
ODD = (
    "\u0130"  # İ: lower-cases to two characters
    "\u212a\u2126ẞß\ufb03ǅ"  # Kelvin sign, Ohm sign, capital sharp s, ffi ligature, Dž
    "\u200b\u200d\u200e\u202e\u2066\ufeff\u00ad"  # zero width, direction marks, soft hyphen
    "\u0301\u0308"  # combining accents
    "😀👨‍👩‍👧\U0010fffd\ufffd"
    "éëïöüçñøå€"
    "<>&\"'`;%\\/{}$"
)
#: Digits that are not ASCII: Arabic-Indic, Persian, full-width, Devanagari, maths, superscripts.
UNICODE_DIGITS = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９०१२३४५६७८९𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗¹²³⁴"
SPECIALS = [
    "",
    " ",
    "\x00",
    "Emma\x00",
    "\x00Emma",
    "Emma\r\nBcc: x@example.com",
    "<script>alert(1)</script>",
    "'; DROP TABLE schools_pupil; --",
    "{{ 7*7 }}",
    "%(name)s",
    "%s%s%n",
    "../../etc/passwd",
    "\u202eamme",
    "\u0130" * 60,
    "null",
    "None",
    "١٢٣٤",
]


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy, times: int = 3):
    """``good`` ``times`` as often as ``bad``: mostly what a person would enter, so that
    examples get past the first check, and sometimes anything at all.

    (``st.one_of(good, good, bad)`` would not do: Hypothesis counts a repeated branch once.)
    """
    return st.sampled_from([True] * times + [False]).flatmap(lambda ok: good if ok else bad)


def long_text() -> st.SearchStrategy[str]:
    """Strings around and far beyond the lengths the columns hold."""
    return st.builds(
        lambda unit, length: (unit * length)[:length],
        st.sampled_from(["a", "İ", "€", "😀", "ß", "\x00", "a\u0301"]),
        st.sampled_from([9, 10, 11, 99, 100, 101, 199, 200, 201, 254, 255, 256, 257, 500, 10_000]),
    )


def text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Any text: plain, control characters, odd Unicode, well-known nasties, very long."""
    return st.one_of(
        st.text(max_size=max_size),
        st.text(alphabet=CONTROL + ODD + UNICODE_DIGITS + "aZ09 @.-,", max_size=max_size),
        st.sampled_from(SPECIALS),
        long_text(),
    )


def names() -> st.SearchStrategy[str]:
    """Mostly names a school would type (so that many submissions are accepted), else anything."""
    plain = st.from_regex(r"[A-Z][a-zëéï'\-]{1,12}( [A-Z][a-z]{1,10})?", fullmatch=True)
    return mostly(plain, text(), times=2)


LOCAL_PARTS = ["ouder", "Ouder.A", "jan+school", "j.de.vries", "ü", "ouder\x00", "o..a", ".ouder"]
DOMAINS = [
    "example.com",
    "example.nl",
    "gmial.com",
    "gmail.nl",
    "hotmail.n",
    "ziggo",
    "regenboog.nl",
    "bücher.de",
    "例え.jp",
    "xn--bcher-kva.de",
    "EXAMPLE.NL",
    "example.com.",
    "-example.com",
    "[127.0.0.1]",
    "a" * 64 + ".nl",
    ("a" * 63 + ".") * 4 + "nl",
]


def emails() -> st.SearchStrategy[str]:
    """Valid, almost valid and invalid addresses, in odd spellings, with Unicode."""
    local = st.one_of(
        st.sampled_from(LOCAL_PARTS),
        st.from_regex(r"[a-z0-9][a-z0-9._+\-]{0,20}", fullmatch=True),
        text(20),
    )
    domain = st.one_of(st.sampled_from(DOMAINS), text(20))
    padding = st.sampled_from(["", " ", "\t", "\n", "\u00a0", "\x00", "\u200b"])
    built = st.builds(
        lambda before, name, at, host, after, upper: (
            (before + name + at + host + after).upper()
            if upper
            else before + name + at + host + after
        ),
        padding,
        local,
        st.sampled_from(["@", "@", "@", "@@", "", "＠"]),
        domain,
        padding,
        st.booleans(),
    )
    very_long = st.builds(
        lambda unit, n, host: unit * n + "@" + host,
        st.sampled_from(["a", "İ", "ü"]),
        st.sampled_from([60, 64, 65, 200, 240, 250, 260]),
        st.sampled_from(["example.com", "gmail.com"]),
    )
    return st.one_of(st.emails(), built, built, very_long, text(60))


def pins() -> st.SearchStrategy[str]:
    """Four ASCII digits sometimes; otherwise wrong lengths, Unicode digits, padding, junk."""
    return st.one_of(
        st.from_regex(r"[0-9]{4}", fullmatch=True),
        st.text(alphabet="0123456789" + UNICODE_DIGITS, min_size=0, max_size=8),
        st.sampled_from(["١٢٣٤", "٢٤٦٨", "２４６８", "2468", " 2468 ", "2468\n", "24 68", "-123",
                         "1e3", "0x10", "\x002468", "2468\x00", "²⁴⁶⁸", "0000", "99999"]),
        text(10),
    )  # fmt: skip


#: Names that are not pictures, or are pictures spelled differently.
NOT_PICTURES = ["", "hond", "ZON", "Zon", "zon ", " kat", "zon\x00", "kat,zon", "wis", "😀", "0"]


def picture_names() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(Picture.values), st.sampled_from(NOT_PICTURES), text(8))


def picture_sequences(max_size: int = 5) -> st.SearchStrategy[list[str]]:
    return st.lists(picture_names(), max_size=max_size)


# --- files ---------------------------------------------------------------------------------


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


MODES = ["RGB", "RGBA", "L", "LA", "P", "1", "I;16", "I", "CMYK", "YCbCr", "F"]
FORMATS = ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "ICO", "PPM"]


@st.composite
def real_images(draw) -> bytes:
    """A picture Pillow can write, in any size around the limits, mode and format."""
    side = st.one_of(st.integers(64, 400), st.integers(1, 700))
    width, height = draw(side), draw(side)
    mode = draw(st.sampled_from(MODES))
    fmt = draw(st.sampled_from(FORMATS))
    colour = draw(st.integers(0, 255))
    image = Image.new("RGB", (width, height), (colour, 255 - colour, colour // 2))
    if mode != "RGB":
        with contextlib.suppress(ValueError):  # a mode Pillow cannot convert RGB to
            image = image.convert(mode)
    try:
        return _encode(image, fmt)
    except (OSError, ValueError, KeyError):
        return _encode(image.convert("RGB"), "PNG")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, colour_type: int = 2) -> bytes:
    """A PNG whose header claims any size, with only a little compressed data behind it."""
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    rows = zlib.compress(b"\x00" * min(width * 3 + 1, 1 << 20) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", rows)
        + _png_chunk(b"IEND", b"")
    )


def gif_claiming(width: int, height: int) -> bytes:
    small = _encode(Image.new("P", (64, 64)), "GIF")
    # Logical screen and first image descriptor both claim the new size.
    data = bytearray(small)
    data[6:10] = struct.pack("<HH", width, height)
    start = data.index(b",", 13)
    data[start + 5 : start + 9] = struct.pack("<HH", width, height)
    return bytes(data)


def jpeg_claiming(width: int, height: int) -> bytes:
    data = bytearray(_encode(Image.new("RGB", (64, 64), (200, 10, 10)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def bombs() -> st.SearchStrategy[bytes]:
    """Headers that promise far more pixels than any photo of a child needs."""
    side = st.sampled_from([5_001, 6_000, 20_000, 65_535])
    huge = st.sampled_from([100_000, 1_000_000, 2**31 - 1])
    return st.one_of(
        st.builds(png_claiming, side, side),
        st.builds(png_claiming, huge, huge),
        st.builds(png_claiming, st.just(1), huge),
        st.builds(gif_claiming, side, side),
        st.builds(jpeg_claiming, side, side),
    )


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="400" height="400">'
    b'<script>alert(document.cookie)</script><rect width="400" height="400"/></svg>'
)
NOT_IMAGES = [
    b"",
    SVG_WITH_SCRIPT,
    b"<html><body onload=alert(1)>foto</body></html>",
    b"GIF89a<script>alert(1)</script>",
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
    b"PK\x03\x04" + b"\x00" * 100,
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"\x00" * 1000,
    b"Dit is geen foto.",
]


@st.composite
def broken(draw, images: st.SearchStrategy[bytes]) -> bytes:
    """A real picture, truncated or with bytes flipped, inserted or removed."""
    data = bytearray(draw(images))
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if how == "truncate":
            del data[at:]
        elif how == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif data:
            del data[at : at + draw(st.integers(1, 64))]
    return bytes(data)


def image_files() -> st.SearchStrategy[bytes]:
    """What a teacher, or someone pretending to be one, might upload as a pupil's photo."""
    return st.one_of(
        real_images(),
        broken(real_images()),
        bombs(),
        st.sampled_from(NOT_IMAGES),
        st.binary(max_size=2048),
    )


def file_names() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["foto.jpg", "foto.png", "foto.svg", "foto.jpg.php", "FOTO.JPEG", "x"]),
        st.text(alphabet=CONTROL + ODD + "abc./\\", min_size=1, max_size=30),
        long_text(),
    )
