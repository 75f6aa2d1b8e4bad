"""Typos in parents' e-mail addresses: what is flagged, what is suggested, what is left alone."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts import typos
from accounts.models import normalize_email
from accounts.typos import PROVIDERS, AddressHint, check_address, distance, repair, school_domains

REQUIRED_PROVIDERS = [
    "gmail.com",
    "hotmail.com",
    "hotmail.nl",
    "outlook.com",
    "outlook.nl",
    "live.nl",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "yahoo.com",
    "yahoo.nl",
    "kpnmail.nl",
    "kpnplanet.nl",
    "planet.nl",
    "hetnet.nl",
    "home.nl",
    "ziggo.nl",
    "casema.nl",
    "chello.nl",
    "upcmail.nl",
    "xs4all.nl",
    "telfort.nl",
    "tele2.nl",
    "online.nl",
    "zeelandnet.nl",
    "quicknet.nl",
    "caiway.nl",
    "solcon.nl",
    "protonmail.com",
    "proton.me",
    "gmx.net",
    "gmx.com",
]

# One mistake in a very short name can point at two providers: no suggestion is right there.
AMBIGUOUS = {"gail.com", "mgail.com", "ms.com", "mn.com", "ma.com", "mc.com", "mx.com"}


def is_valid(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def suggestion_for(address: str) -> str | None:
    """What the admin would offer: check_address for a valid address, repair otherwise."""
    if is_valid(address):
        hints = check_address(address)
        return hints[0].suggestion if hints else None
    return repair(address)


def one_mistake(label: str) -> set[str]:
    """The label with two neighbours swapped, a letter left out or a letter typed twice."""
    swapped = {label[:i] + label[i + 1] + label[i] + label[i + 2 :] for i in range(len(label) - 1)}
    dropped = {label[:i] + label[i + 1 :] for i in range(len(label))}
    doubled = {label[:i] + label[i] + label[i:] for i in range(len(label))}
    return (swapped | dropped | doubled) - {label, ""}


# -- the provider list ---------------------------------------------------------------------------


def test_it_exports_providers_as_a_frozenset():
    assert isinstance(PROVIDERS, frozenset)


@pytest.mark.parametrize("domain", REQUIRED_PROVIDERS)
def test_it_knows_the_providers_dutch_parents_use(domain):
    assert domain in PROVIDERS


@pytest.mark.parametrize("domain", sorted(PROVIDERS))
def test_it_gives_no_hint_for_a_known_provider(domain):
    assert check_address(f"ouder@{domain}") == []


@pytest.mark.parametrize("domain", sorted(PROVIDERS))
def test_it_leaves_a_known_provider_unchanged_when_repairing(domain):
    assert repair(f"ouder @{domain}") == f"ouder@{domain}"


# -- misspelt providers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "meant"),
    [
        ("gmial.com", "gmail.com"),
        ("gmal.com", "gmail.com"),
        ("gmaill.com", "gmail.com"),
        ("gnail.com", "gmail.com"),
        ("hotmial.com", "hotmail.com"),
        ("hotmai.com", "hotmail.com"),
        ("hotmal.nl", "hotmail.nl"),
        ("hotmial.nl", "hotmail.nl"),
        ("outlok.com", "outlook.com"),
        ("outloook.com", "outlook.com"),
        ("outlok.nl", "outlook.nl"),
        ("kpnmial.nl", "kpnmail.nl"),
        ("zigo.nl", "ziggo.nl"),
        ("zigggo.nl", "ziggo.nl"),
        ("icluod.com", "icloud.com"),
        ("yahooo.com", "yahoo.com"),
        ("xs4al.nl", "xs4all.nl"),
        ("protonmial.com", "protonmail.com"),
    ],
)
def test_it_suggests_the_provider_for_a_misspelt_name(domain, meant):
    assert check_address(f"ouder@{domain}") == [
        AddressHint("provider_typo", typos._MESSAGES["provider_typo"], f"ouder@{meant}")
    ]


def test_it_keeps_the_top_level_domain_the_parent_typed():
    assert check_address("ouder@hotmal.nl")[0].suggestion == "ouder@hotmail.nl"
    assert check_address("ouder@hotmal.com")[0].suggestion == "ouder@hotmail.com"


def test_it_keeps_the_part_before_the_at_sign():
    hint = check_address("jan.de.vries+school@gmial.com")[0]
    assert hint.suggestion == "jan.de.vries+school@gmail.com"


def test_it_normalises_before_checking():
    assert check_address("  Ouder@GMIAL.com ")[0].suggestion == "ouder@gmail.com"


@pytest.mark.parametrize("provider", REQUIRED_PROVIDERS)
def test_it_brings_one_mistake_in_a_provider_name_back_to_that_provider(provider):
    label, _dot, tld = provider.partition(".")
    for wrong in sorted(one_mistake(label)):
        domain = f"{wrong}.{tld}"
        if domain in PROVIDERS or domain in AMBIGUOUS:
            continue
        assert suggestion_for(f"ouder@{domain}") == f"ouder@{provider}", domain


@pytest.mark.parametrize("domain", sorted(AMBIGUOUS))
def test_it_makes_no_suggestion_when_two_providers_are_equally_close(domain):
    assert check_address(f"ouder@{domain}") == []


def test_it_makes_no_suggestion_for_a_missing_tld_that_fits_two_providers():
    assert repair("ouder@ms") is None  # msn or me


# -- top-level domains ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "meant"),
    [
        ("gmail.co", "gmail.com"),
        ("gmail.cm", "gmail.com"),
        ("gmail.con", "gmail.com"),
        ("gmail.om", "gmail.com"),
        ("gmail.comm", "gmail.com"),
        ("gmail.nl", "gmail.com"),
        ("gmail.de", "gmail.com"),
        ("gmail.com.com", "gmail.com"),
        ("icloud.con", "icloud.com"),
        ("icloud.nl", "icloud.com"),
        ("hotmail.co", "hotmail.com"),
        ("hotmail.con", "hotmail.com"),
        ("hotmail.nll", "hotmail.nl"),
        ("hotmail.nk", "hotmail.nl"),
        ("hotmail.ml", "hotmail.nl"),
        ("live.ml", "live.nl"),
        ("live.co", "live.com"),
        ("yahoo.om", "yahoo.com"),
        ("outlook.cm", "outlook.com"),
        ("ziggo.nll", "ziggo.nl"),
        ("ziggo.com", "ziggo.nl"),
        ("kpnmail.nk", "kpnmail.nl"),
        ("kpnmail.com", "kpnmail.nl"),
    ],
)
def test_it_suggests_the_right_top_level_domain(domain, meant):
    assert check_address(f"ouder@{domain}") == [
        AddressHint("truncated_tld", typos._MESSAGES["truncated_tld"], f"ouder@{meant}")
    ]


@pytest.mark.parametrize(
    ("address", "meant"),
    [
        ("ouder@ziggo.n", "ouder@ziggo.nl"),
        ("ouder@hotmail.n", "ouder@hotmail.nl"),
        ("ouder@bedrijf.n", "ouder@bedrijf.nl"),
        ("ouder@zigo.n", "ouder@ziggo.nl"),
        ("ouder@gmail.c", "ouder@gmail.com"),
        ("ouder@icloud.c", "ouder@icloud.com"),
    ],
)
def test_it_repairs_a_one_letter_top_level_domain(address, meant):
    assert not is_valid(address)  # Django wants two letters at least: this is repair's job
    assert repair(address) == meant


@pytest.mark.parametrize(
    ("address", "meant"),
    [
        ("ouder@gmail", "ouder@gmail.com"),
        ("ouder@ziggo", "ouder@ziggo.nl"),
        ("ouder@hotmail", "ouder@hotmail.com"),
        ("ouder@outlook", "ouder@outlook.com"),
        ("ouder@kpnmail", "ouder@kpnmail.nl"),
        ("ouder@gmial", "ouder@gmail.com"),
        ("ouder@proton", "ouder@proton.me"),
    ],
)
def test_it_repairs_a_missing_top_level_domain(address, meant):
    assert not is_valid(address)
    assert repair(address) == meant


def test_it_names_a_missing_top_level_domain():
    assert typos._suggest_domain("gmail") == ("missing_tld", "gmail.com")


# -- real domains that only look like a provider -------------------------------------------------


@pytest.mark.parametrize(
    "domain",
    [
        "gmx.de",
        "gmx.at",
        "gmx.nl",
        "kpn.com",
        "live.be",
        "live.co.uk",
        "outlook.be",
        "outlook.es",
        "hotmail.be",
        "hotmail.de",
        "hotmail.fr",
        "hotmail.co.uk",
        "yahoo.co.uk",
        "yahoo.com.au",
        "yahoo.de",
        "planet.be",
        "online.be",
        "online.de",
        "home.be",
        "bedrijf.co",
        "bedrijf.nl",
        "tudelft.nl",
        "telenet.be",
        "skynet.be",
        "web.de",
        "falcon.nl",
        "hccnet.nl",
        "caiway.net",
        "ymail.com",
        "mail.com",
        "googlemail.com",
        "example.nl",
        "mail.ziggo.nl",
    ],
)
def test_it_gives_no_hint_for_a_real_domain_close_to_a_provider(domain):
    assert check_address(f"ouder@{domain}") == []


# -- the school's own domain ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["juf@deregenboog.nl", "juf@mail.deregenboog.nl", "JUF@DeRegenboog.NL"]
)
def test_it_flags_the_schools_own_domain_and_its_subdomains(address):
    assert check_address(address, {"deregenboog.nl"}) == [
        AddressHint(
            "school_domain", "Dit is een adres van de school zelf, niet van een ouder.", None
        )
    ]


@pytest.mark.parametrize("school", [" DeRegenboog.NL ", "@deregenboog.nl"])
def test_it_accepts_school_domains_in_any_spelling(school):
    assert check_address("juf@deregenboog.nl", [school])[0].code == "school_domain"


@pytest.mark.parametrize("address", ["ouder@notderegenboog.nl", "ouder@deregenboog.nl.example"])
def test_it_does_not_flag_a_domain_that_only_resembles_the_school(address):
    assert check_address(address, {"deregenboog.nl"}) == []


def test_it_ignores_a_provider_passed_as_school_domain():
    assert check_address("ouder@gmail.com", {"gmail.com", "hotmail.be"}) == []


def test_it_still_checks_for_typos_next_to_school_domains():
    assert check_address("ouder@gmial.com", {"deregenboog.nl"})[0].code == "provider_typo"


def test_it_collects_school_domains_from_staff_addresses_without_providers():
    staff = [
        "juf@deregenboog.nl",
        "Meester@DeRegenboog.nl",
        "ict@Stichting-Primair.nl",
        "meester@gmail.com",
        "juf@hotmail.nl",
        "juf@hotmail.be",
        "",
        "geen adres",
    ]
    assert school_domains(staff) == {"deregenboog.nl", "stichting-primair.nl"}


def test_it_collects_no_school_domains_from_no_staff():
    assert school_domains([]) == set()


# -- repair --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "meant"),
    [
        ("ouder @ gmail.com", "ouder@gmail.com"),
        ("ou der@gmail.com", "ouder@gmail.com"),
        ("ouder@gmail. com", "ouder@gmail.com"),
        ("ouder\t@gmail.com", "ouder@gmail.com"),
        ("ouder\u00a0@gmail.com", "ouder@gmail.com"),
        ("ouder@@gmail.com", "ouder@gmail.com"),
        ("ouder@@@gmail.com", "ouder@gmail.com"),
        ("ouder@gmail,com", "ouder@gmail.com"),
        ("ouder@gmail;com", "ouder@gmail.com"),
        ("jan,jansen@ziggo.nl", "jan.jansen@ziggo.nl"),
        ("ouder@gmail..com", "ouder@gmail.com"),
        ("ouder@gmail.com.", "ouder@gmail.com"),
        ("ouder@gmail.com,", "ouder@gmail.com"),
        ("ouder@gmail.com;", "ouder@gmail.com"),
        ("ouder.@gmail.com", "ouder@gmail.com"),
        ("mailto:ouder@gmail.com", "ouder@gmail.com"),
        ("MAILTO:Ouder@Gmail.com", "ouder@gmail.com"),
        ("<ouder@gmail.com>", "ouder@gmail.com"),
        ("<mailto:ouder@gmail.com>", "ouder@gmail.com"),
        ("Jan de Vries <ouder@x.nl>", "ouder@x.nl"),
        ('"Jan de Vries" <ouder@x.nl>', "ouder@x.nl"),
        ("'ouder@x.nl'", "ouder@x.nl"),
        ("ouder @gmial.com", "ouder@gmail.com"),
        ("ouder@hotmial,com", "ouder@hotmail.com"),
        ("ouder@gmail.co,", "ouder@gmail.com"),
        ("ouder@ziggo.n.", "ouder@ziggo.nl"),
        ("  ouder @ gmail .com  ", "ouder@gmail.com"),
    ],
)
def test_it_repairs_an_invalid_address(raw, meant):
    assert not is_valid(normalize_email(raw))
    assert repair(raw) == meant


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "@",
        "@@",
        "niet een adres",
        "ouder",
        "ouder@",
        "@gmail.com",
        "ouder@xyz",
        "ouder@.",
        "a@b@c.nl",
        "ouder@gmail.com, tweede@gmail.com",
        "<>",
        "mailto:",
    ],
)
def test_it_gives_up_on_a_hopeless_address(raw):
    assert repair(raw) is None


@pytest.mark.parametrize("raw", ["ouder@gmail.com", " Ouder@Gmail.com ", "ouder@gmial.com"])
def test_it_leaves_valid_addresses_to_check_address(raw):
    assert repair(raw) is None


# -- every suggestion is a valid address ---------------------------------------------------------

SUGGESTING = [
    "ouder@gmial.com",
    "ouder@gmail.co",
    "ouder@gmail.nl",
    "ouder@hotmal.nl",
    "ouder@zigo.nl",
    "ouder@icloud.con",
    "ouder@kpnmial.nl",
    "o@outloook.com",
    "a.b-c+d@hotmail.nk",
]
REPAIRING = [
    "ouder @gmial.com",
    "ouder@gmail",
    "ouder@ziggo.n",
    "Jan <jan@gmail,com>",
    "ouder@@hotmail",
    "ou der@bedrijf.n",
]


@pytest.mark.parametrize("address", SUGGESTING)
def test_it_only_suggests_valid_addresses(address):
    (hint,) = check_address(address)
    assert hint.suggestion is not None
    assert is_valid(hint.suggestion)


@pytest.mark.parametrize("raw", REPAIRING)
def test_it_only_repairs_to_valid_addresses_without_further_hints(raw):
    repaired = repair(raw)
    assert repaired is not None
    assert is_valid(repaired)
    assert check_address(repaired) == []


@pytest.mark.parametrize("provider", REQUIRED_PROVIDERS)
def test_it_only_suggests_valid_addresses_for_any_one_mistake(provider):
    label, _dot, tld = provider.partition(".")
    for wrong in one_mistake(label):
        suggestion = suggestion_for(f"ouder@{wrong}.{tld}")
        assert suggestion is None or is_valid(suggestion), wrong


# -- the hint itself -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("ouder@gmial.com", "provider_typo"),
        ("ouder@gmail.co", "truncated_tld"),
        ("ouder@deregenboog.nl", "school_domain"),
    ],
)
def test_it_writes_a_short_dutch_message_without_the_suggestion(address, code):
    (hint,) = check_address(address, {"deregenboog.nl"})
    assert hint.code == code
    message = str(hint.message)
    assert message.endswith(".") and len(message) < 80
    assert "@" not in message and "gmail" not in message


@pytest.mark.parametrize("code", ["provider_typo", "truncated_tld", "missing_tld", "school_domain"])
def test_it_has_a_message_for_every_code(code):
    assert str(typos._MESSAGES[code])


def test_it_makes_hints_immutable():
    hint = check_address("ouder@gmial.com")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        hint.suggestion = "iets@anders.nl"


def test_it_gives_no_hints_without_a_part_before_the_at_sign():
    assert check_address("@gmial.com") == []


# -- the distance --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("gmail", "gmail", 0),
        ("gmial", "gmail", 1),  # a swap counts once
        ("gmal", "gmail", 1),
        ("gnail", "gmail", 1),
        ("gmaill", "gmail", 1),
        ("", "abc", 3),
        ("abc", "", 3),
        ("kitten", "sitting", 3),
        ("ca", "abc", 3),  # optimal string alignment: no edits inside a swap
        ("hotmail.co.uk", "hotmail.com", 3),
    ],
)
def test_it_measures_the_damerau_levenshtein_distance(a, b, expected):
    assert distance(a, b) == expected
    assert distance(b, a) == expected
