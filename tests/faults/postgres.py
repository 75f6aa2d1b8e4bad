"""A PostgreSQL server of the test's own, which a test may stop and start at will.

The shared server on 127.0.0.1:5432 serves other work and must never be restarted; this one
lives in a temporary folder, listens on a free loopback port (and a socket in that folder),
trusts every local connection and is gone afterwards. PostgreSQL refuses to run as root:
when the tests run as root, its commands run as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import psycopg
from psycopg import sql

from bench.server import free_port

#: Where Debian's packages put the server programs when they are not on PATH.
DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
MISSING = (
    "The fault tests start a PostgreSQL server of their own and need its programs "
    "(initdb, pg_ctl) on PATH or in /usr/lib/postgresql/<version>/bin: on Debian, "
    "`apt-get install postgresql`."
)


class PostgresUnavailable(RuntimeError):
    pass


def find_binaries() -> Path:
    """The folder with initdb and pg_ctl: PATH first, else the newest Debian package."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    candidates = sorted(
        (Path(folder) for folder in glob.glob(DEBIAN_BINARIES)),
        key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else 0,
    )
    for folder in reversed(candidates):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise PostgresUnavailable(MISSING)


class PrivatePostgres:
    """``initdb`` into a temporary folder, then ``start()``, ``stop()``, ``start()``…

    ``remove()`` stops the server (if it runs) and deletes the folder; call it whatever
    happened.
    """

    def __init__(self, timeout: int = 30):
        self.bin = find_binaries()
        self.timeout = timeout
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="thuisportaal-faults-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "Running as root, the fault tests start PostgreSQL as the `postgres` "
                    "system user, and there is none: " + MISSING
                ) from None
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str, timeout: float | None = None) -> None:
        result = subprocess.run(
            [*self.as_user, *command],
            capture_output=True,
            text=True,
            timeout=timeout or self.timeout + 10,
            cwd=self.folder,
        )
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}"
                f"{result.stderr}\n{self.log_tail()}"
            )

    def version(self) -> int:
        """The major version, from ``pg_ctl --version`` ("pg_ctl (PostgreSQL) 15.20 ...")."""
        result = subprocess.run(
            [str(self.bin / "pg_ctl"), "--version"], capture_output=True, text=True, timeout=10
        )
        found = re.search(r"(\d+)(?:\.\d+)?", result.stdout)
        return int(found.group(1)) if found else 0

    def log_tail(self, characters: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-characters:]
        except OSError:
            return ""

    def init(self) -> PrivatePostgres:
        self._run(
            str(self.bin / "initdb"),
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",  # a throwaway cluster; the server itself runs with fsync on
        )
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        if self.version() >= 14:
            # After a crash PostgreSQL makes sure every file is on disk before it recovers:
            # one file at a time (fsync) takes seconds on a busy machine, syncfs moments.
            options += " -c recovery_init_sync_method=syncfs"
        self._run(
            str(self.bin / "pg_ctl"),
            "start",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "--wait",
            "--timeout",
            str(self.timeout),
            "-o",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session and checkpoints; ``immediate`` is as abrupt as a crash."""
        self._run(
            str(self.bin / "pg_ctl"),
            "stop",
            "--pgdata",
            str(self.data),
            "--mode",
            mode,
            "--wait",
            "--timeout",
            str(self.timeout),
        )

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def remove(self) -> None:
        pid = self.postmaster_pid()
        if pid is not None:
            with suppress(PostgresUnavailable, subprocess.TimeoutExpired):
                self.stop(mode="immediate")
            # The server's own processes go with it; a postmaster that would not stop is killed.
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- Databases ------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres", **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.url(database), connect_timeout=5, **kwargs)

    def create_database(self, name: str, template: str | None = None) -> str:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect(autocommit=True) as admin:
            admin.execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.connect(autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def accepts_connections(self) -> bool:
        try:
            with self.connect() as connection:
                connection.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False
