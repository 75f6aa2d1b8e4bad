"""The portal as production runs it, on a loopback port: settings, start, wait, stop.

Shared by the load benchmark (bench/load.py) and the fault tests (tests/faults/): both start
``gunicorn basispoort.wsgi`` with the repository's gunicorn.conf.py and production settings
(DEBUG off, a random SECRET_KEY, an OIDC signing key, ALLOWED_HOSTS=127.0.0.1, plain http)
against a database of their own.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


class ServerError(RuntimeError):
    """gunicorn did not come up."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(
    database_url: str,
    port: int,
    folder: Path,
    *,
    workers: int = 2,
    threads: int = 1,
    **overrides: str,
) -> dict[str, str]:
    """Production settings, as tests/test_deploy.py starts them, for loopback over http.

    Two servers that must accept each other's sessions need the same SECRET_KEY: start the
    second from a copy of the first one's environment with another PORT.
    """
    from sso.keygen import new_private_key_pem

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL=f"http://127.0.0.1:{port}",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(folder / "static"),
        MEDIA_ROOT=str(folder / "media"),
        EMAIL_URL="dummymail://",  # never var/mail; a caller that sends mail says where
        OIDC_SIGNING_KEY=new_private_key_pem(2048).decode(),
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY=str(workers),
        GUNICORN_THREADS=str(threads),
        # gunicorn (25.1+) opens a control socket in $XDG_RUNTIME_DIR, else ~/.gunicorn/:
        # a throwaway one here, so that it never meets another gunicorn's on this machine.
        XDG_RUNTIME_DIR=str(folder),
    )
    env.update(overrides)
    return env


def wait_for_health(port: int, process: subprocess.Popen, seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"gunicorn stopped at start (exit {process.returncode})")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    raise ServerError(f"gunicorn did not answer /healthz on port {port} within {seconds:.0f} s")


def stop_process_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM to the whole group (master and workers), then SIGKILL to whatever is left."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    # A master stuck past the grace period, or workers it left behind.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@contextmanager
def gunicorn(env: dict[str, str], folder: Path, name: str = "gunicorn") -> Iterator:
    """gunicorn in a process group of its own, stopped with all its workers afterwards.

    Its output goes to ``folder/<name>.log``; the error says where when it does not start.
    """
    log_path = folder / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own virtualenv's gunicorn)
            [str(GUNICORN), "basispoort.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        try:
            try:
                wait_for_health(int(env["PORT"]), process)
            except ServerError as error:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise ServerError(f"{error}; the end of {log_path}:\n{tail}") from None
            yield process
        finally:
            stop_process_group(process)


def prepare_database(folder: Path, families: int, static: bool = True) -> None:
    """Migrate, add the demo school and ``families`` copies of the demo family (bench/seed.py)
    and (unless ``static`` is false) collect the static files into STATIC_ROOT.

    For a process whose environment is production_env()'s, after ``django.setup()``.
    Collecting takes longer than all the rest (WhiteNoise compresses every file of the
    admin): a caller with a core to spare runs ``collectstatic`` beside it instead.
    """
    from django.core.management import call_command
    from django.test.utils import override_settings

    from bench.seed import seed_families

    call_command("migrate", interactive=False, verbosity=0)
    # seed_demo keeps the demo publisher's secret under VAR_DIR: not the developer's var/.
    with override_settings(VAR_DIR=folder), open(os.devnull, "w") as quiet:
        call_command("seed_demo", verbosity=0, stdout=quiet)
    seed_families(families)
    if static:
        call_command("collectstatic", interactive=False, verbosity=0)
