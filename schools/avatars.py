"""Generated tile pictures for pupils without an uploaded photo.

Young children find their own login tile by its picture long before they can read
their name, so no tile is ever blank: a pupil without a photo gets a friendly animal
face on a soft background, drawn here as a small self-contained SVG.

The picture is derived from the pupil's UUID with SHA-256 (``hash()`` is salted per
process and would change between restarts), so the same child always sees the same
picture and siblings usually get different ones. There is deliberately no cat and no
fish: those are picture-password pictures and must not double as tile pictures.

The drawing holds no text, fonts, scripts, links or external references; the only
caller-supplied value is the ``aria-label`` (a teacher-typed name), which is escaped.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from html import escape

OUTLINE = "#3b2a22"
PINK = "#f39bb0"
WHITE = "#fff"
NO_LINE = ' stroke="none"'

# Soft pastels (rose, butter, mint, sky, lavender, peach, aqua, sand); all contrast
# strongly with the dark OUTLINE.
BACKGROUNDS: tuple[str, ...] = (
    "#fde2e4", "#fff1c1", "#d9f2dc", "#d6e8fa", "#e8dff5", "#ffe0c7", "#d4f1ee", "#f3e8d2",
)  # fmt: skip

# Characters XML 1.0 does not allow at all; dropped from the label.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _pair(dx: float, cy: float, r: float, fill: str, extra: str = "") -> str:
    """Two circles mirrored around the vertical centre line (ears, eyes, cheeks)."""
    return "".join(
        f'<circle cx="{60 + s * dx:g}" cy="{cy:g}" r="{r:g}" fill="{fill}"{extra}/>'
        for s in (-1, 1)
    )


def _eyes(y: float, dx: float = 13, r: float = 4.5) -> str:
    """Two dark eyes, each with a small white highlight at its upper right."""
    h = r / 3
    return _pair(dx, y, r, OUTLINE, NO_LINE) + "".join(
        f'<circle cx="{60 + s * dx + h:.1f}" cy="{y - h:.1f}" r="{h:.1f}" fill="{WHITE}"{NO_LINE}/>'
        for s in (-1, 1)
    )


def _smile(y: float, w: float = 6) -> str:
    return f'<path d="M{60 - w:g} {y:g}Q60 {y + w:g} {60 + w:g} {y:g}"/>'


def _cheeks(y: float, dx: float = 22) -> str:
    return _pair(dx, y, 5, PINK, NO_LINE + ' fill-opacity=".6"')


def _bear() -> str:
    fur, light = "#a86b43", "#e8c49b"
    return (
        _pair(26, 36, 14, fur)
        + _pair(26, 36, 7, light, NO_LINE)
        + f'<circle cx="60" cy="66" r="36" fill="{fur}"/>'
        f'<ellipse cx="60" cy="81" rx="16" ry="12" fill="{light}"/>'
        f'<ellipse cx="60" cy="76" rx="6" ry="4.5" fill="{OUTLINE}"/>' + _eyes(60) + _smile(84, 5)
    )


def _fox() -> str:
    fur, white = "#ec7a2f", "#fff8ef"
    return (
        f'<path d="M26 52L32 14L56 34Z" fill="{fur}"/><path d="M94 52L88 14L64 34Z" fill="{fur}"/>'
        f'<path d="M33 42L35 24L47 34ZM87 42L85 24L73 34Z" fill="{OUTLINE}"{NO_LINE}/>'
        f'<path d="M20 50Q60 28 100 50Q96 86 60 106Q24 86 20 50Z" fill="{fur}"/>'
        f'<path d="M24 66Q44 70 60 92Q76 70 96 66Q90 90 60 106Q30 90 24 66Z" fill="{white}"/>'
        f'<circle cx="60" cy="98" r="5" fill="{OUTLINE}"/>' + _eyes(60, 14)
    )


def _rabbit() -> str:
    fur = "#f6f3ef"
    return (
        f'<ellipse cx="45" cy="32" rx="10" ry="26" fill="{fur}"/>'
        f'<ellipse cx="75" cy="32" rx="10" ry="26" fill="{fur}"/>'
        f'<ellipse cx="45" cy="34" rx="4.5" ry="17" fill="{PINK}"{NO_LINE}/>'
        f'<ellipse cx="75" cy="34" rx="4.5" ry="17" fill="{PINK}"{NO_LINE}/>'
        f'<circle cx="60" cy="76" r="32" fill="{fur}"/>'
        + _eyes(70, 12)
        + _cheeks(84, 19)
        + f'<ellipse cx="60" cy="82" rx="4.5" ry="3.5" fill="{PINK}"/>'
        '<path d="M60 86V90M52 90Q56 95 60 90Q64 95 68 90"/>'
    )


def _owl() -> str:
    # No pointed ear tufts: with them an owl looks like a cat (a picture-password picture).
    feathers, dark, belly, beak = "#9b6a4c", "#7a4f36", "#e9cfa9", "#f5a623"
    return (
        f'<ellipse cx="27" cy="78" rx="10" ry="20" transform="rotate(20 27 78)" fill="{dark}"/>'
        f'<ellipse cx="93" cy="78" rx="10" ry="20" transform="rotate(-20 93 78)" fill="{dark}"/>'
        f'<ellipse cx="60" cy="66" rx="34" ry="40" fill="{feathers}"/>'
        f'<path d="M52 28Q56 18 60 26Q64 18 68 28" fill="{feathers}"/>'
        f'<ellipse cx="60" cy="90" rx="20" ry="14" fill="{belly}"/>'
        + _pair(16, 56, 14, WHITE)
        + _eyes(56, 16, 7)
        + f'<path d="M54 68L66 68L60 80Z" fill="{beak}"/>'
        f'<path d="M48 106V111M54 106V111M66 106V111M72 106V111" stroke="{beak}"/>'
    )


def _frog() -> str:
    skin = "#6cbf4a"
    return (
        _pair(22, 46, 16, skin)
        + f'<ellipse cx="60" cy="76" rx="42" ry="30" fill="{skin}"/>'
        + _pair(22, 44, 10, WHITE)
        + _eyes(44, 22, 5)
        + _cheeks(84, 30)
        + _pair(5, 68, 1.8, OUTLINE, NO_LINE)
        + '<path d="M36 82Q60 102 84 82"/>'
    )


def _panda() -> str:
    return (
        _pair(26, 36, 13, OUTLINE) + f'<circle cx="60" cy="66" r="36" fill="{WHITE}"/>'
        f'<ellipse cx="46" cy="63" rx="9" ry="12" transform="rotate(30 46 63)" fill="{OUTLINE}"/>'
        f'<ellipse cx="74" cy="63" rx="9" ry="12" transform="rotate(-30 74 63)" fill="{OUTLINE}"/>'
        + _pair(13, 61, 4, WHITE, NO_LINE)
        + _pair(13, 61, 2.2, OUTLINE, NO_LINE)
        + f'<ellipse cx="60" cy="78" rx="6" ry="4" fill="{OUTLINE}"/>'
        + _smile(85, 5)
    )


# Ten tufts around the face make the mane (centres on a circle of radius 36).
_MANE_TUFTS = "".join(
    f'<circle cx="{60 + 36 * math.cos(a):.1f}" cy="{64 + 36 * math.sin(a):.1f}" r="14"/>'
    for a in (i * math.pi / 5 for i in range(10))
)


def _lion() -> str:
    mane, fur = "#c8702a", "#f4bf4f"
    return (
        # The mane is drawn twice, a thick outline first and then the fill on top of it,
        # so only its outer scalloped edge keeps a line.
        f'<g fill="{mane}" stroke-width="6">{_MANE_TUFTS}</g>'
        f'<g fill="{mane}"{NO_LINE}>{_MANE_TUFTS}<circle cx="60" cy="64" r="38"/></g>'
        + _pair(22, 40, 8, fur)
        + f'<circle cx="60" cy="64" r="30" fill="{fur}"/>'
        '<ellipse cx="60" cy="79" rx="14" ry="10" fill="#fde6b5"/>'
        + _eyes(60, 12)
        + f'<path d="M54 72L66 72L60 79Z" fill="{OUTLINE}"/>'
        + _smile(83, 6)
    )


def _mouse() -> str:
    fur = "#b4b4be"
    return (
        _pair(30, 40, 20, fur)
        + _pair(30, 40, 12, PINK, NO_LINE)
        + f'<ellipse cx="60" cy="74" rx="32" ry="30" fill="{fur}"/>'
        + _eyes(68, 12)
        + '<path d="M44 84L22 80M44 89L22 92M76 84L98 80M76 89L98 92" stroke-width="2"/>'
        + f'<circle cx="60" cy="84" r="5" fill="{PINK}"/>'
        + _smile(91, 4)
    )


ANIMALS: dict[str, Callable[[], str]] = {
    draw.__name__.removeprefix("_"): draw
    for draw in (_bear, _fox, _rabbit, _owl, _frog, _panda, _lion, _mouse)
}


def _choose(seed: str) -> tuple[str, str]:
    """Return (animal name, background colour) for ``seed``, stable across processes."""
    digest = hashlib.sha256(str(seed).strip().lower().encode()).digest()
    names = list(ANIMALS)
    animal = names[int.from_bytes(digest[:4]) % len(names)]
    background = BACKGROUNDS[int.from_bytes(digest[4:8]) % len(BACKGROUNDS)]
    return animal, background


def generated_avatar_svg(seed: str, label: str) -> str:
    """Draw the tile picture for a pupil without a photo.

    ``seed`` is the pupil's UUID (as a string); ``label`` is the accessible name,
    normally the child's first name.
    """
    animal, background = _choose(seed)
    safe_label = escape(_XML_INVALID.sub("", str(label)), quote=True)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120" '
        f'role="img" aria-label="{safe_label}">'
        f'<rect width="120" height="120" rx="20" fill="{background}"/>'
        f'<g class="avatar-{animal}" stroke="{OUTLINE}" stroke-width="3" '
        'stroke-linejoin="round" stroke-linecap="round" fill="none">'
        f"{ANIMALS[animal]()}</g></svg>"
    )
