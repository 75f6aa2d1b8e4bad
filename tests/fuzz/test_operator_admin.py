"""The operators' forms (superuser): publishers' clients, products, licences; the admin login."""

from __future__ import annotations

import uuid

from django.test import Client as Browser
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from launcher.models import Licence, Product, Publisher
from schools.models import YearLevel
from sso.models import Client, Scope
from tests.conftest import PASSWORD
from tests.fuzz import strategies as fuzzed
from tests.fuzz.strategies import mostly
from tests.fuzz.support import (
    changed_counts,
    logged_in,
    no_server_error,
    row_counts,
    with_fixtures,
)
from tests.helpers import saved


def urls():
    """Web addresses good and bad: http on loopback, IPv6, odd ports, schemes, spaces."""
    return mostly(
        st.sampled_from(["https://rekenrups.example.org/callback", "http://127.0.0.1:8001/cb"]),
        st.one_of(
            st.sampled_from(
                [
                    "http://rekenrups.example.org/cb",
                    "https://[::1",
                    "https://[::1]/cb",
                    "https://[zz]/cb",
                    "https://a.example:99999999/cb",
                    "https://a.example:-1/cb",
                    "https://user@a.example/cb",
                    "https://a.example/cb#x",
                    "javascript:alert(1)",
                    "https://",
                    "https://a.example/\x00",
                    "https://ä.example/cb",
                    "https://a.example/" + "x" * 600,
                ]
            ),
            fuzzed.text(),
        ),
    )


PUBLISHERS = mostly(st.just("klimop"), st.sampled_from(["", "x", "\x00", str(uuid.uuid4())]))


def publisher_id(publishers: dict, name: str) -> str:
    return str(publishers[name].pk) if name in publishers else name


@with_fixtures
@example(
    ["https://a.example/cb", "http://127.0.0.1:8001/cb"],
    "https://a.example/login",
    "klimop",
    "Rekenrups",
    ["profile", "school"],
    "\r\n",
)
@example(["https://[::1"], "https://a.example/login", "klimop", "Rekenrups", [], "\n")
@example(["https://a.example/cb"], "https://[::1", "klimop", "Rekenrups", [], "\n")
@example(["https://a.example:99999999/cb"], "https://a.example/", "klimop", "Rekenrups", [], "\n")
@given(
    redirects=st.lists(urls(), max_size=3),
    initiate=urls(),
    publisher=PUBLISHERS,
    name=fuzzed.names(),
    scopes=st.lists(mostly(st.sampled_from(Scope.values), fuzzed.text(6)), max_size=3),
    separator=st.sampled_from(["\n", "\r\n", " ", "\n\n"]),
)
def test_operator_registers_a_client(
    cast, fuzz, redirects, initiate, publisher, name, scopes, separator
):
    with fuzz.example():
        publishers = {"klimop": Publisher.objects.create(name="Uitgeverij Klimop")}
        data = {
            "publisher": publisher_id(publishers, publisher),
            "name": name,
            "redirect_uris": separator.join(redirects),
            "initiate_login_uri": initiate,
            "scope_choices": list(scopes),
            "is_active": "on",
        }
        before = row_counts()
        response = logged_in(cast.superuser).post(reverse("admin:sso_client_add"), data)
        no_server_error(response)
        if response.status_code == 200 and "secret" in response.context:
            fuzz.note("accepted")
            assert changed_counts(before) == {"admin.LogEntry": 1, "sso.Client": 1}
            client = Client.objects.get()
            lines = {line.strip() for line in data["redirect_uris"].splitlines()}
            assert client.redirect_uri_list and set(client.redirect_uri_list) <= lines
            for uri in [*client.redirect_uri_list, client.initiate_login_uri]:
                assert uri.isprintable() and " " not in uri
            assert set(client.scope_list) == set(scopes)
            return
        fuzz.note("refused")
        assert response.context["adminform"].form.errors
        assert changed_counts(before) == {}


@with_fixtures
@example(
    fields={
        "publisher": "klimop",
        "name": "Rekenrups",
        "launch_url": "https://rekenrups.example.org/start",
        "icon": "rekenrups",
        "usable_at_home": "on",
        "year_levels": ["3", "4"],
    }
)
@given(
    fields=st.fixed_dictionaries(
        {
            "publisher": PUBLISHERS,
            "name": fuzzed.names(),
            "launch_url": urls(),
        },
        optional={
            "icon": st.one_of(st.sampled_from(["rekenrups", "reken rups", "../x"]), fuzzed.text(8)),
            "description": fuzzed.text(),
            "usable_at_home": st.sampled_from(["on", "", "\x00"]),
            "year_levels": st.lists(
                mostly(st.sampled_from(YearLevel.values), fuzzed.text(2)), max_size=3
            ),
            "client": st.sampled_from(["", "x", str(uuid.uuid4())]),
        },
    )
)
def test_operator_adds_a_product(cast, fuzz, fields):
    with fuzz.example():
        publishers = {"klimop": Publisher.objects.create(name="Uitgeverij Klimop")}
        data = fields | {"publisher": publisher_id(publishers, fields["publisher"])}
        before = row_counts()
        response = logged_in(cast.superuser).post(reverse("admin:launcher_product_add"), data)
        no_server_error(response)
        if saved(response):
            fuzz.note("accepted")
            assert changed_counts(before) == {"admin.LogEntry": 1, "launcher.Product": 1}
            product = Product.objects.get()
            assert product.launch_url == data["launch_url"].strip()
            return
        fuzz.note("refused")
        assert changed_counts(before) == {}


DATES = mostly(
    st.dates().map(str),
    st.one_of(
        st.sampled_from(["", "2025-02-30", "31-12-2025", "0001-01-01", "9999-12-31"]),
        fuzzed.text(10),
    ),
)


@with_fixtures
@example("2025-08-01", "2026-07-31", "year_levels", [], ["3", "4"])
@example("2025-08-01", "2026-07-31", "groups", ["group_x5"], [])
@example("2025-08-01", "2026-07-31", "year_levels", [], [])
@example("2025-08-01", "2025-07-31", "school", [], [])
@example("2025-08-01", "2026-07-31", "groups", ["group_y5"], ["5"])
@given(
    valid_from=DATES,
    valid_until=DATES,
    scope=mostly(st.sampled_from(Licence.Scope.values), st.one_of(st.just(""), fuzzed.text(8))),
    groups=st.lists(
        mostly(st.just("group_x5"), st.sampled_from(["group_y5", "x", "\x00"])), max_size=2
    ),
    year_levels=st.lists(mostly(st.sampled_from(YearLevel.values), fuzzed.text(2)), max_size=3),
)
def test_operator_adds_a_licence(cast, fuzz, valid_from, valid_until, scope, groups, year_levels):
    with fuzz.example():
        publisher = Publisher.objects.create(name="Uitgeverij Klimop")
        product = Product.objects.create(
            publisher=publisher, name="Rekenrups", launch_url="https://rekenrups.example.org/"
        )
        data = {
            "school": str(cast.school_x.pk),
            "product": str(product.pk),
            "valid_from": valid_from,
            "valid_until": valid_until,
            "scope": scope,
            "groups": [str(getattr(cast, g).pk) if g.startswith("group_") else g for g in groups],
            "year_levels": list(year_levels),
        }
        before = row_counts()
        response = logged_in(cast.superuser).post(reverse("admin:launcher_licence_add"), data)
        no_server_error(response)
        if saved(response):
            fuzz.note("accepted")
            changes = changed_counts(before)
            links = changes.pop("launcher.Licence_groups", 0)
            assert changes == {"admin.LogEntry": 1, "launcher.Licence": 1}
            licence = Licence.objects.get()
            assert licence.valid_until >= licence.valid_from
            assert links == licence.groups.count()
            assert all(group.school_id == cast.school_x.pk for group in licence.groups.all())
            return
        fuzz.note("refused")
        assert changed_counts(before) == {}


@with_fixtures
@example(username="juf.x@regenboog.nl", password=PASSWORD)
@example(username="ouder.a@example.com", password=PASSWORD)
@given(username=st.one_of(fuzzed.emails(), st.just("juf.x@regenboog.nl")), password=fuzzed.text())
def test_admin_login(cast, fuzz, username, password):
    with fuzz.example():
        before = row_counts()
        response = Browser().post(
            reverse("admin:login"), {"username": username, "password": password}
        )
        no_server_error(response)
        changes = changed_counts(before)
        if response.status_code == 302:
            fuzz.note("accepted")
            assert username == "juf.x@regenboog.nl" and password == PASSWORD
            assert changes == {}
            return
        fuzz.note("refused")
        assert response.status_code == 200
        assert changes in ({}, {"accounts.LoginThrottle": 1}), changes
