"""Production settings, exercised the way the Dockerfile runs them.

The Dockerfile runs ``manage.py collectstatic`` at build time and ``gunicorn basispoort.wsgi``
as its command, with DEBUG off. These tests run exactly those commands outside Docker and
look at what a browser would get.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sso.keygen import new_private_key_pem

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
HOST = "thuis.example.nl"


SIGNING_KEY = new_private_key_pem(2048).decode()


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        SITE_URL=f"https://{HOST}",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        EMAIL_URL="smtp+tls://portal:secret@smtp.example.nl:587",
        OIDC_SIGNING_KEY=SIGNING_KEY,
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "secret_key",
    ["", "short", "django-insecure-" + "x" * 60, "ab" * 40],
    ids=["missing", "short", "placeholder", "repetitive"],
)
def test_it_refuses_to_start_without_a_real_secret_key(tmp_path, secret_key):
    result = manage(production_env(tmp_path, SECRET_KEY=secret_key), "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_refuses_to_start_without_allowed_hosts(tmp_path):
    result = manage(production_env(tmp_path, ALLOWED_HOSTS=""), "check")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


@pytest.mark.parametrize("unset", [True, False], ids=["missing", "empty"])
def test_it_refuses_to_start_without_an_id_token_signing_key(tmp_path, unset):
    env = production_env(tmp_path, OIDC_SIGNING_KEY="")
    if unset:
        del env["OIDC_SIGNING_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "OIDC_SIGNING_KEY" in result.stderr
    assert "System check identified no issues" not in result.stdout


def test_it_refuses_to_start_in_debug_mode_for_a_public_host_name(tmp_path):
    public = manage(production_env(tmp_path, DEBUG="true"), "check")
    assert public.returncode != 0
    assert "DEBUG is on while ALLOWED_HOSTS names other hosts than this one." in public.stderr
    local = manage(
        production_env(tmp_path, DEBUG="true", ALLOWED_HOSTS="127.0.0.1,localhost,[::1]"), "check"
    )
    assert local.returncode == 0, local.stdout + local.stderr
    assert "System check identified no issues" in local.stdout


def test_it_passes_the_deploy_check(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def deploy_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("deploy")


@pytest.fixture(scope="module")
def access_log(deploy_dir) -> Path:
    """Where the server's standard output (gunicorn's access log, ``accesslog = "-"``) goes."""
    return deploy_dir / "stdout.log"


@pytest.fixture(scope="module")
def server(deploy_dir, access_log):
    """collectstatic, then gunicorn with the Dockerfile's command and production settings."""
    tmp_path = deploy_dir
    port = free_port()
    env = production_env(tmp_path, PORT=str(port), HOST="127.0.0.1", WEB_CONCURRENCY="1")
    collected = manage(env, "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stderr
    assert manage(env, "migrate", "--noinput").returncode == 0
    stdout = access_log.open("wb")
    process = subprocess.Popen(
        [str(GUNICORN), "basispoort.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.2)
    yield port
    process.terminate()
    process.wait(timeout=10)
    stdout.close()


def get(port: int, path: str, headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": HOST, **(headers or {})})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


HTTPS = {"X-Forwarded-Proto": "https"}


def test_it_answers_the_health_check_over_plain_http_with_any_host(server):
    response, body = get(server, "/healthz", {"Host": "10.0.0.7:8000"})
    assert response.status == 200
    assert b'"database": "ok"' in body


def test_it_redirects_plain_http_to_https(server):
    response, _body = get(server, "/")
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/"


def test_it_refuses_unknown_host_headers(server):
    response, _body = get(server, "/", {"Host": "evil.example.com", **HTTPS})
    assert response.status == 400


def test_it_sends_the_security_headers(server):
    response, body = get(server, "/", HTTPS)
    assert response.status == 200
    assert "Thuis inloggen" in body.decode()
    assert response.getheader("Strict-Transport-Security") == (
        "max-age=31536000; includeSubDomains; preload"
    )
    csp = response.getheader("Content-Security-Policy")
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("Referrer-Policy") == "same-origin"
    assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_it_sets_secure_host_only_cookies(server):
    response, _body = get(server, "/beheer/login/", HTTPS)
    assert response.status == 200
    cookie = response.getheader("Set-Cookie")
    assert cookie.startswith("__Host-csrftoken=")
    assert "Secure" in cookie
    assert "Path=/" in cookie
    assert "Domain" not in cookie


def test_it_serves_collected_static_files_with_long_caching(server):
    response, body = get(server, "/", HTTPS)
    stylesheet = re.search(r'href="(/static/css/portal\.[^"]+)"', body.decode()).group(1)
    assert stylesheet.startswith("/static/css/portal.") and stylesheet != "/static/css/portal.css"
    response, _body = get(server, stylesheet, HTTPS)
    assert response.status == 200
    assert "immutable" in response.getheader("Cache-Control")


def test_it_keeps_the_secret_of_a_set_password_link_out_of_the_access_log(server, access_log):
    secret = "Geheim-token_" + secrets.token_urlsafe(8).replace("-", "x")
    referer = f"https://{HOST}/wachtwoord/{secret}-referer/"
    response, body = get(server, f"/wachtwoord/{secret}/", {"Referer": referer, **HTTPS})
    assert response.status == 200
    assert "Deze link werkt niet meer" in body.decode()
    marker = f"/healthz?na-{secrets.token_hex(4)}"
    get(server, marker, HTTPS)  # a later line: the first one has been written by then

    deadline = time.monotonic() + 10
    while marker not in (log := access_log.read_text(errors="replace")):
        assert time.monotonic() < deadline, log[-2000:]
        time.sleep(0.1)
    assert secret not in log
    line = next(line for line in log.splitlines() if "/wachtwoord/" in line)
    assert '"GET /wachtwoord/…/ HTTP/1.1" 200' in line
    assert f'"https://{HOST}/wachtwoord/…/"' in line  # the Referer is masked as well
