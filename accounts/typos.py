"""Likely typing mistakes in parents' e-mail addresses, with a suggested fix.

Teachers type parents' addresses into the admin by hand, and most support questions come from
an address with a typo in it: ``gmial.com``, ``ziggo.n``, ``ouder@hotmail``. The invitation then
goes nowhere and the parent never logs in. This module spots the common mistakes so the admin can
ask "Bedoelt u …?" before saving. It is pure: no database, only a comparison with the short list
of providers Dutch parents use, so it is cheap to run on every save.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from accounts.models import normalize_email

# In order of preference: for a domain without a top-level domain, the first match wins.
_PROVIDER_ORDER = (  # noqa: SIM905 - long word lists read best as text
    "gmail.com hotmail.com hotmail.nl outlook.com outlook.nl live.nl live.com msn.com icloud.com "
    "me.com mac.com yahoo.com yahoo.nl kpnmail.nl kpnplanet.nl planet.nl hetnet.nl home.nl "
    "ziggo.nl casema.nl chello.nl upcmail.nl xs4all.nl telfort.nl tele2.nl online.nl "
    "zeelandnet.nl quicknet.nl caiway.nl solcon.nl protonmail.com proton.me gmx.net gmx.com "
    # Less common but real, listed so that they are not mistaken for a typo of the above.
    "caiway.net hccnet.nl wanadoo.nl zonnet.nl kliksafe.nl delta.nl googlemail.com ymail.com "
    "rocketmail.com aol.com mail.com email.com"
).split()
PROVIDERS = frozenset(_PROVIDER_ORDER)

# International brands: their name with any country's top-level domain is a real mailbox.
_INTERNATIONAL = frozenset({"hotmail", "outlook", "live", "yahoo", "gmx"})
# Brands that exist with one top-level domain only: "gmail.nl" can only be a mistake.
_SINGLE_TLD = frozenset(
    (  # noqa: SIM905
        "gmail icloud kpnmail kpnplanet ziggo casema upcmail xs4all hetnet telfort zeelandnet "
        "quicknet caiway solcon protonmail"
    ).split()
)
# Mistyped top-level domains; except for ".n", fixed only when the result is a known provider.
_TLD_TYPOS = {
    **dict.fromkeys(("n", "nll", "nk", "ml", "ln"), "nl"),
    **dict.fromkeys(("co", "cm", "con", "om", "comm", "c", "cmo", "ocm", "xom", "vom"), "com"),
}
_COUNTRY_TLDS = frozenset(
    (  # noqa: SIM905
        "ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo "
        "bq br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj "
        "dk dm do dz ec ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp "
        "gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg "
        "kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm "
        "mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf "
        "pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm "
        "sn so sr ss st sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us "
        "uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw"
    ).split()
)

_MESSAGES = {
    "provider_typo": _("Dit lijkt op een tikfout in de naam van de provider."),
    "truncated_tld": _("Het laatste deel van het adres (na de punt) lijkt niet te kloppen."),
    "missing_tld": _("Het laatste deel van het adres, zoals .nl of .com, ontbreekt."),
    "school_domain": _("Dit is een adres van de school zelf, niet van een ouder."),
}


@dataclass(frozen=True)
class AddressHint:
    code: str  # provider_typo, truncated_tld, missing_tld or school_domain
    message: str  # short Dutch text for the teacher, without the suggestion
    suggestion: str | None  # the corrected full address, or None


def distance(a: str, b: str) -> int:
    """Damerau–Levenshtein distance (optimal string alignment): a swap of neighbours costs 1."""
    previous, row = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous, row = previous, row, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], before[j - 2] + 1)
    return row[-1]


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    """The one candidate within reach of ``word``; None when there is none or a tie."""
    limit = 1 if len(word) < 9 else 2
    scored = sorted((distance(word, c), c) for c in candidates)
    best = [c for d, c in scored if d == scored[0][0] and d <= limit]
    if len(best) != 1:
        return None
    # Two mistakes but a different first letter: more likely another, real domain.
    if scored[0][0] == 2 and best[0][0] != word[0]:
        return None
    return best[0]


def _is_country(suffix: str) -> bool:
    parts = suffix.split(".")
    return parts[-1] in _COUNTRY_TLDS and (len(parts) == 1 or parts[:-1] in (["co"], ["com"]))


def _is_consumer(domain: str) -> bool:
    """A provider's domain, or an international provider's domain for another country."""
    label, _dot, suffix = domain.partition(".")
    return domain in PROVIDERS or (label in _INTERNATIONAL and _is_country(suffix))


def _first_with_label(label: str) -> str | None:
    return next((p for p in _PROVIDER_ORDER if p.startswith(f"{label}.")), None)


def _suggest_domain(domain: str) -> tuple[str, str] | None:
    """(code, corrected domain) for a domain that looks like a provider's, mistyped."""
    label, _dot, suffix = domain.partition(".")
    if not label or (_is_consumer(domain) and suffix not in _TLD_TYPOS):
        return None
    if not suffix:
        found = _closest(label, {p.partition(".")[0] for p in PROVIDERS})
        return ("missing_tld", _first_with_label(found)) if found else None
    fixed = f"{label}.{_TLD_TYPOS[suffix]}" if suffix in _TLD_TYPOS else None
    if fixed in PROVIDERS:
        return ("truncated_tld", fixed)
    if label in _SINGLE_TLD:
        return ("truncated_tld", _first_with_label(label))
    # planet.be is the Belgian planet, not a mistyped planet.nl.
    if not (_first_with_label(label) and _is_country(suffix)):
        found = _closest(domain, PROVIDERS)
        if found:
            same_label = found.partition(".")[0] == label
            return ("truncated_tld" if same_label else "provider_typo", found)
    if fixed:
        found = _closest(fixed, PROVIDERS)
        if found:
            return ("provider_typo", found)
        if suffix == "n":
            return ("truncated_tld", fixed)
    return None


def _is_valid(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def check_address(address: str, school_domains: Iterable[str] = ()) -> list[AddressHint]:
    """Hints for a valid address: a mistyped provider, or the school's own domain."""
    local, _at, domain = normalize_email(address).rpartition("@")
    if not local:
        return []
    for school in school_domains:
        school = normalize_email(school).lstrip("@")
        if school and not _is_consumer(school) and f".{domain}".endswith(f".{school}"):
            return [AddressHint("school_domain", _MESSAGES["school_domain"], None)]
    found = _suggest_domain(domain)
    if found is None or not _is_valid(f"{local}@{found[1]}"):
        return []
    code, fixed = found
    return [AddressHint(code, _MESSAGES[code], f"{local}@{fixed}")]


def repair(raw: str) -> str | None:
    """For an invalid address: the valid address it probably meant, or None.

    None also when the normalised input is valid already: check_address is for those.
    """
    text = normalize_email(raw)
    if not text or _is_valid(text):
        return None
    if "<" in text:  # "Naam <ouder@voorbeeld.nl>" or "<ouder@voorbeeld.nl>"
        text = text.rpartition("<")[2].partition(">")[0]
    text = re.sub(r"[\s\u200b\ufeff]+", "", text).removeprefix("mailto:")
    text = re.sub(r"@+", "@", re.sub(r"[,;]", ".", text))
    text = re.sub(r"\.{2,}", ".", text).strip(".\"'()<>")
    if text.count("@") != 1:
        return None
    local, _at, domain = (part.strip(".") for part in text.partition("@"))
    if not local or not domain:
        return None
    found = _suggest_domain(domain)
    candidate = f"{local}@{found[1] if found else domain}"
    return candidate if _is_valid(candidate) else None


def school_domains(staff_emails: Iterable[str]) -> set[str]:
    """The domains of the staff's addresses, without the providers anyone may use."""
    domains = {normalize_email(e).rpartition("@")[2] for e in staff_emails if "@" in (e or "")}
    return {d for d in domains if d and not _is_consumer(d)}
