"""Fixtures for the fault tests: a private PostgreSQL, the portal under gunicorn, the mail
worker, all on loopback and all stopped and removed afterwards, whatever happens.

Every test here runs against real processes (gunicorn with production settings, PostgreSQL,
the mail worker) and may stop one of them on purpose. Each one is bounded: a watchdog fails
a test that runs over TIME_LIMIT seconds, and its fixtures still clean up. The figures each
test measures are printed at the end of the run (``figures``).

Run them alone with ``pytest tests/faults`` or ``pytest -m faults``.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.server import ROOT, free_port, production_env, stop_process_group
from tests.faults.postgres import PostgresUnavailable, PrivatePostgres
from tests.faults.processes import FAMILIES, Processes, run_django

TIME_LIMIT = 120  # seconds per test
TEMPLATE = "thuisportaal_faults_template"

_figures: list[tuple[str, dict]] = []


# --- pytest hooks ----------------------------------------------------------------------------


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "faults: against real gunicorn, PostgreSQL and SMTP processes (tests/faults)"
    )


class TimeLimitExceeded(Exception):
    pass


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a test that runs over TIME_LIMIT; its fixtures' teardown still runs."""

    def expire(signum, frame):
        raise TimeLimitExceeded(f"{item.name} ran over its limit of {TIME_LIMIT} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TIME_LIMIT)
    try:
        return (yield)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def pytest_terminal_summary(terminalreporter):
    if not _figures:
        return
    terminalreporter.section("fault tests: figures")
    for name, values in _figures:
        shown = ", ".join(f"{key}={value}" for key, value in values.items())
        terminalreporter.write_line(f"{name}: {shown}")


@pytest.fixture
def figures(request):
    """``figures(key=value, ...)``: recorded for this test, shown at the end of the run."""
    values: dict = {}
    _figures.append((request.node.name, values))

    def record(**measured):
        values.update(measured)
        print(", ".join(f"{key}={value}" for key, value in measured.items()))

    return record


# --- PostgreSQL and the prepared database ------------------------------------------------


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of the tests' own (tests/faults/postgres.py), never the shared one.

    Missing server programs fail the tests: CI must install them, not skip these.
    """
    try:
        server = PrivatePostgres()
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    try:
        server.init()
        server.start()
        yield server
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    finally:
        server.remove()


@dataclass
class Prepared:
    folder: Path  # collected static files and the demo publisher's configuration


@pytest.fixture(scope="session")
def static_files():
    """``collectstatic`` in the background (the slowest step) while PostgreSQL gets ready."""
    folder = Path(tempfile.mkdtemp(prefix="thuisportaal-faults-"))
    env = production_env(f"sqlite:///{folder}/unused.sqlite3", free_port(), folder)
    with (folder / "collectstatic.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        yield folder, process
    finally:
        stop_process_group(process, grace=5)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def prepared(static_files, postgres):
    """A template database, migrated and seeded once (demo school and FAMILIES families),
    and the collected static files every server shares."""
    folder, collecting = static_files
    url = postgres.create_database(TEMPLATE)
    env = production_env(url, free_port(), folder)
    run_django(
        env,
        "from bench.server import prepare_database\n"
        f"prepare_database(Path({str(folder)!r}), {FAMILIES}, static=False)\n",
        timeout=300,
    )
    try:
        collecting.wait(timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail("collectstatic took more than five minutes", pytrace=False)
    if collecting.returncode != 0:
        log = (folder / "collectstatic.log").read_text(errors="replace")[-3000:]
        pytest.fail(f"collectstatic failed ({collecting.returncode}):\n{log}", pytrace=False)
    return Prepared(folder)


@contextmanager
def copy_of_template(postgres, label: str):
    """A fresh copy of the template database; its URL. Dropped afterwards."""
    name = "faults_" + re.sub(r"[^a-z0-9]+", "_", label.lower())[-40:]
    postgres.drop_database(name)
    url = postgres.create_database(name, template=TEMPLATE)
    try:
        yield url
    finally:
        if not postgres.accepts_connections():  # stopped by a test that did not get to start it
            postgres.start()
        postgres.drop_database(name)


@contextmanager
def processes_for(prepared):
    folder = Path(tempfile.mkdtemp(prefix="thuisportaal-faults-run-"))
    processes = Processes(folder, prepared.folder)
    try:
        yield processes
    finally:
        try:
            processes.close()
        finally:
            processes.show_logs()  # shown by pytest only when a test failed
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database(postgres, prepared, request):
    """A database of this test's own, with the demo school and the families."""
    with copy_of_template(postgres, request.node.name) as url:
        yield url


@pytest.fixture(scope="module")
def module_database(postgres, prepared, request):
    """One database for the tests of a module that share their servers."""
    with copy_of_template(postgres, request.module.__name__) as url:
        yield url


@pytest.fixture
def processes(prepared):
    """Start servers and workers for this test; all are stopped after it."""
    with processes_for(prepared) as processes:
        yield processes


@pytest.fixture(scope="module")
def module_processes(prepared):
    with processes_for(prepared) as processes:
        yield processes
