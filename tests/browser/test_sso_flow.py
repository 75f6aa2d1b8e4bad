"""Emma opens Rekenrups and arrives signed in at the demo publisher, a process of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from launcher.models import LaunchEvent
from sso import keys
from sso.keygen import new_private_key_pem
from sso.models import Pseudonym
from tests.browser.test_child_flow import log_in_as_parent, open_tile, tap

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
#: Tests run with DEBUG off, where the portal refuses to sign without a configured key.
SIGNING_KEY = new_private_key_pem(2048).decode()
STARTUP_SECONDS = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def signing_key(settings):
    settings.OIDC_SIGNING_KEY = SIGNING_KEY
    keys.forget()
    yield
    keys.forget()


@pytest.fixture
def publisher_url(transactional_db, live_server, settings, signing_key, tmp_path):
    """seed_demo against this live server, then the demo publisher with the file it wrote."""
    from django.core.management import call_command

    port = free_port()
    settings.SITE_URL = live_server.url
    settings.DEMO_PUBLISHER_URL = f"http://127.0.0.1:{port}"
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
        and not key.startswith("DEMO_PUBLISHER_")
    }
    log = (tmp_path / "publisher.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "demo_publisher",
            "--port",
            str(port),
            "--config",
            str(Path(settings.VAR_DIR) / "demo-publisher.json"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                output = (tmp_path / "publisher.log").read_text(errors="replace")
                assert process.poll() is None, output
                assert time.monotonic() < deadline, output
                time.sleep(0.1)
        yield settings.DEMO_PUBLISHER_URL
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


@pytest.fixture
def portal_problems(page, publisher_url):
    """page.problems, less what comes from the publisher (it may 404 its favicon): that is
    another site, and what it shows is checked directly."""
    problems = []
    page.on(
        "console",
        lambda message: (
            not message.location.get("url", "").startswith(publisher_url)
            and problems.append(message.text)
        ),
    )
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and not response.url.startswith(publisher_url)
            and problems.append(f"{response.status} {response.url}")
        ),
    )
    return problems


def claims_shown(page) -> dict[str, str]:
    names = page.locator("dl dt").all_inner_texts()
    values = page.locator("dl dd").all_inner_texts()
    assert len(names) == len(values)
    return dict(zip(names, values, strict=True))


def sign_in_child(page, portal_url, child):
    log_in_as_parent(page, portal_url)
    open_tile(page, child)
    if child == "Emma":
        page.keyboard.type("2468")
    else:
        tap(page, "kat")
        tap(page, "zon")
    expect(page.get_by_role("heading", name=f"Hoi {child}!")).to_be_visible()


def open_rekenrups(page, publisher_url, child, group) -> dict[str, str]:
    """From the software page to the publisher's welcome: the claims it shows."""
    page.get_by_role("button", name="Rekenrups").click()
    page.wait_for_url(f"{publisher_url}/")
    expect(page.get_by_role("heading", name=f"Hoi {child}!")).to_be_visible()
    expect(page.get_by_text(f"Welkom bij Rekenrups, {group}.")).to_be_visible()
    claims = claims_shown(page)
    assert claims["given_name"] == child
    assert claims["group_name"] == group
    assert claims["sub"]
    return claims


def test_emma_opens_rekenrups_signed_in(live_server, publisher_url, page, shoot, portal_problems):
    log_in_as_parent(page, live_server.url)
    shoot("1-tiles")
    open_tile(page, "Emma")
    page.keyboard.type("2468")
    expect(page.get_by_role("heading", name="Hoi Emma!")).to_be_visible()
    shoot("2-software")

    claims = open_rekenrups(page, publisher_url, "Emma", "Groep 5")
    shoot("3-publisher")
    emma_sub = Pseudonym.objects.get(pupil__first_name="Emma").sub
    assert claims["sub"] == emma_sub
    assert claims["iss"] == live_server.url
    assert "last_name" not in claims and "family_name" not in claims
    assert LaunchEvent.objects.get().product.name == "Rekenrups"

    # Back to the portal: the session ended with the launch, the ticket was spent.
    page.goto(live_server.url)
    shoot("4-after-launch")
    expect(page.get_by_role("heading", name="Thuis inloggen")).to_be_visible()
    assert portal_problems == []


def test_daan_gets_his_own_group_and_sub(live_server, publisher_url, page, shoot):
    sign_in_child(page, live_server.url, "Emma")
    emma = open_rekenrups(page, publisher_url, "Emma", "Groep 5")
    sign_in_child(page, live_server.url, "Daan")
    daan = open_rekenrups(page, publisher_url, "Daan", "Groep 2")
    shoot("1-publisher-daan")
    assert daan["sub"] != emma["sub"]
    assert daan["sub"] == Pseudonym.objects.get(pupil__first_name="Daan").sub


def test_emma_keeps_her_sub_on_a_second_launch(live_server, publisher_url, page, shoot):
    sign_in_child(page, live_server.url, "Emma")
    first = open_rekenrups(page, publisher_url, "Emma", "Groep 5")
    sign_in_child(page, live_server.url, "Emma")
    second = open_rekenrups(page, publisher_url, "Emma", "Groep 5")
    shoot("1-publisher-again")
    assert second["sub"] == first["sub"]
    assert Pseudonym.objects.filter(pupil__first_name="Emma").count() == 1
    assert LaunchEvent.objects.filter(product__name="Rekenrups").count() == 2
