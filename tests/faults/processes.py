"""The processes of one fault test: the portal under gunicorn, the mail worker, Django code.

Every process runs in a process group of its own and is stopped with all its children when
the test ends (``Processes.close``), whatever happened.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.server import ROOT, free_port, gunicorn, production_env, stop_process_group

#: Copies of the demo family in the prepared database (bench/seed.py): parent
#: bench<NNNN>@example.com with Emma (PIN) and Daan (pictures).
FAMILIES = 20
SETTINGS = "basispoort.settings"


def run_django(env: dict[str, str], code: str, timeout: float = 60) -> str:
    """Python code in a new process with the portal's production settings; its output."""
    prelude = "from pathlib import Path\nimport django\ndjango.setup()\n"
    result = subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": SETTINGS},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"python -c failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


@dataclass
class Portal:
    name: str
    port: int
    env: dict[str, str]
    process: subprocess.Popen
    log: Path

    def worker_pids(self) -> set[int]:
        from bench.load import children_of

        return set(children_of(self.process.pid))

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


class Processes:
    """Starts servers and workers for one test and stops every one of them afterwards."""

    def __init__(self, folder: Path, static: Path):
        self.folder = folder
        self.static = static
        self.stack = ExitStack()
        self.logs: list[Path] = []

    def env(self, database_url: str, **overrides: str) -> dict[str, str]:
        port = free_port()
        env = production_env(database_url, port, self.folder, **overrides)
        env["STATIC_ROOT"] = str(self.static / "static")
        return env

    def portal(self, env: dict[str, str], name: str = "gunicorn") -> Portal:
        """gunicorn with ``env`` (same SECRET_KEY for servers that share sessions)."""
        log = self.folder / f"{name}.log"
        self.logs.append(log)
        process = self.stack.enter_context(gunicorn(env, self.folder, name=name))
        return Portal(name, int(env["PORT"]), env, process, log)

    def mail_worker(self, env: dict[str, str], name: str = "mail_worker") -> subprocess.Popen:
        """``manage.py mail_worker`` every half second, in a process group of its own."""
        log_path = self.folder / f"{name}.log"
        self.logs.append(log_path)
        log = self.stack.enter_context(log_path.open("ab"))
        process = subprocess.Popen(
            [sys.executable, "manage.py", "mail_worker", "--interval", "0.5"],
            cwd=ROOT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self.stack.callback(stop_process_group, process, 10)
        return process

    def close(self) -> None:
        self.stack.close()

    def show_logs(self, lines: int = 40) -> None:
        for log in self.logs:
            if log.exists():
                tail = log.read_text(errors="replace").splitlines()[-lines:]
                print(f"--- the end of {log.name}:", *tail, sep="\n")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
