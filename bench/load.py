"""The home flow under load: how many parents and children can log in and open software.

Run with `make bench-load` (or `.venv/bin/python -m bench.load [--users 10] [--flow-seconds
60] [--page-seconds 15]`); it needs Locust (`pip install '.[bench]'`) and a PostgreSQL
server (DATABASE_URL's, else postgres@127.0.0.1:5432). It stops by itself in about three
minutes and leaves nothing behind:

1. creates a throwaway database ``thuisportaal_bench_<pid>``, migrates it, runs
   ``seed_demo`` (its demo-publisher secret goes to a temporary folder, not var/) and adds
   ``--families`` copies of the demo family (bench/seed.py);
2. collects static files into a temporary folder and starts ``gunicorn basispoort.wsgi``
   with the repository's gunicorn.conf.py and production settings (DEBUG off, a random
   SECRET_KEY, a fresh OIDC signing key, ALLOWED_HOSTS=127.0.0.1, SECURE_SSL_REDIRECT off)
   on a free loopback port, and waits for /healthz;
3. measures the reference points: the Argon2 bound (cores ÷ CPU time of one password and one
   PIN verification, bench/argon2_cost.py) and the cheapest answers the server has;
4. drives the complete home flow with Locust (bench/locustfile.py, HomeFlowUser), then
   short runs of the tile page, the software page and the stand-ins for a bare view;
5. samples the gunicorn workers' peak memory (VmHWM) all along, the CPU time of gunicorn,
   Locust and PostgreSQL per run, and counts the database queries of every page of the
   flow once with Django's test client against the same database;
6. prints a table, writes bench/results.json, stops gunicorn and drops the database.

What the numbers mean and what limits them is in bench/README.md.

The load generator runs on the same machine as the server and PostgreSQL: on a small
machine it takes a real share of the CPU, which the "CPU" lines show. "Server-only CPU
ceiling" is what the server and database could do if they had all cores to themselves.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.server import free_port, gunicorn, prepare_database, production_env

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCUST = BIN / "locust"
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
RESULTS = ROOT / "bench" / "results.json"
TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
PRODUCT = "Tafelturbo"  # licensed for Groep 5, no SSO client: the launch opens its start URL
# As in bench/locustfile.py (importing that file here would bring in gevent's patches).
TILE = re.compile(
    r'<a class="tile" href="(/kind/[0-9a-f-]+/)">.*?<span class="tile-name">([^<]+)<', re.S
)


# --- Settings and the server (free_port, production_env, gunicorn: bench/server.py) ------


def gunicorn_setting(name: str):
    """A value from the repository's gunicorn.conf.py, as gunicorn reads it."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return settings[name]


# --- /proc: memory and CPU -----------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(child) for child in text.split()]
    except OSError:
        return []


def status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid: int, with_reaped_children: bool = False) -> int:
    """utime + stime (and cutime + cstime: the children it has waited for)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = text[text.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


def postgres_backends(database: str) -> dict[int, int]:
    """CPU ticks of each PostgreSQL backend serving ``database`` (its process title names it).

    Other databases on the same server (and PostgreSQL's background processes) are left
    out: they count as "other".
    """
    ticks = {}
    marker = f" {database} ".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            title = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and marker in title:
            ticks[int(entry)] = cpu_ticks(int(entry))
    return ticks


def busy_ticks() -> int:
    """CPU ticks the whole machine spent not idle."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4]  # minus idle and iowait


def gunicorn_ticks(master: int) -> int:
    """The master with the workers it has reaped (max_requests restarts) and the live workers."""
    return cpu_ticks(master, with_reaped_children=True) + sum(
        cpu_ticks(worker) for worker in children_of(master)
    )


@dataclass
class Sampler:
    """Samples, every ``interval`` seconds while the server runs:

    - the gunicorn workers' VmHWM (peak RSS) and the sum of gunicorn's RSS, per phase;
    - CPU seconds so far of gunicorn, of PostgreSQL, of the running Locust process and of
      the whole machine, so that CPU can be taken over exactly the measuring window.
    """

    master: int
    database: str
    interval: float = 0.25
    phase: str = "start"
    locust: int = 0  # pid of the running Locust process
    peak_hwm: dict[str, int] = field(default_factory=dict)  # per phase, KiB
    peak_total_rss: dict[str, int] = field(default_factory=dict)
    workers_seen: dict[str, set] = field(default_factory=dict)
    master_hwm: int = 0
    cpu: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def __post_init__(self):
        self._postgres, self._backends = 0, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.sample()  # the workers as they start, before any load ("start")
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self):
        phase = self.phase
        workers = children_of(self.master)
        total = status_kib(self.master, "VmRSS")
        for worker in workers:
            hwm = status_kib(worker, "VmHWM")
            total += status_kib(worker, "VmRSS")
            self.peak_hwm[phase] = max(self.peak_hwm.get(phase, 0), hwm)
            self.workers_seen.setdefault(phase, set()).add(worker)
        self.peak_total_rss[phase] = max(self.peak_total_rss.get(phase, 0), total)
        self.master_hwm = max(self.master_hwm, status_kib(self.master, "VmHWM"))
        # Backends come and go with gunicorn's workers: add up what each did since the
        # previous sample (a backend that ends takes at most one interval along).
        backends = postgres_backends(self.database)
        postgres = self._postgres + sum(
            ticks - self._backends.get(pid, 0) for pid, ticks in backends.items()
        )
        self._postgres, self._backends = postgres, backends
        self.cpu.append(
            (
                time.time(),
                {
                    "gunicorn": gunicorn_ticks(self.master) / TICKS,
                    "postgres": postgres / TICKS,
                    "locust": (cpu_ticks(self.locust) / TICKS) if self.locust else 0.0,
                    "busy": busy_ticks() / TICKS,
                },
            )
        )

    def cpu_between(self, start: float, end: float) -> tuple[float, dict[str, float]]:
        """Seconds of the window actually covered, and CPU seconds spent in it, per part."""
        inside = [sample for sample in self.cpu if start <= sample[0] <= end]
        if len(inside) < 2:
            return 0.0, {}
        (first_at, first), (last_at, last) = inside[0], inside[-1]
        return last_at - first_at, {name: last[name] - first[name] for name in last}


# --- Reference points and queries ------------------------------------------------------------


def argon2_bound() -> dict:
    from bench.argon2_cost import PASSWORD, PIN, measure

    password_cpu, password_wall = measure(*PASSWORD[1:])
    pin_cpu, pin_wall = measure(*PIN[1:])
    return {
        "password_cpu_ms": password_cpu * 1000,
        "password_wall_ms": password_wall * 1000,
        "pin_cpu_ms": pin_cpu * 1000,
        "pin_wall_ms": pin_wall * 1000,
        "cores": CORES,
        "bound_flows_per_s": CORES / (password_cpu + pin_cpu),
        # The formula, cores ÷ (2 × one verification), with the password's cost for
        # both: the bound had the PIN been hashed as a password is.
        "bound_two_password_verifications_flows_per_s": CORES / (2 * password_cpu),
    }


def count_queries(email: str, product_code: str, warm_rounds: int = 5) -> dict[str, dict]:
    """Every page of the flow through the test client: its SQL, and its CPU time.

    The same database and settings as the server. The first round captures the queries;
    then ``warm_rounds`` more give the median CPU time of each page in this process
    (Django, the ORM, templates and Argon2 without gunicorn, the network or PostgreSQL's
    side). Not counted: the connection health check (CONN_HEALTH_CHECKS) that Django runs
    with its own cursor before a request's first query on a reused connection, one more
    round trip per request in gunicorn.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.seed import PASSWORD, PIN

    pages: dict[str, dict] = {}
    cpu: dict[str, list[float]] = {}

    # One client for all rounds: a new one loads the middleware again (WhiteNoise then scans
    # the static files), which no request in gunicorn pays.
    client = Client(HTTP_HOST="127.0.0.1")

    def flow(capture: bool):
        client.cookies.clear()

        def page(name, method, path, expected, data=None):
            with CaptureQueriesContext(connection) as captured:
                started = time.process_time()
                response = getattr(client, method)(path, data or {})
                took = time.process_time() - started
            if response.status_code != expected:
                raise SystemExit(f"{name}: {response.status_code} instead of {expected}")
            cpu.setdefault(name, []).append(took * 1000)
            if capture:
                statements = [query["sql"] for query in captured.captured_queries]
                control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
                writes = ("INSERT", "UPDATE", "DELETE")
                pages[name] = {
                    # SQL statements; BEGIN/COMMIT (also round trips) are counted apart.
                    "queries": sum(1 for sql in statements if not sql.startswith(control)),
                    "transaction_statements": sum(
                        1 for sql in statements if sql.startswith(control)
                    ),
                    "writes": sum(1 for sql in statements if sql.lstrip().startswith(writes)),
                    "sql": [sql[:300] for sql in statements],
                }
            return response

        page("GET / (login page)", "get", "/", 200)
        page("POST / (parent login)", "post", "/", 302, {"username": email, "password": PASSWORD})
        tiles = page("GET /kinderen/ (tiles)", "get", "/kinderen/", 200)
        found = {name.strip(): path for path, name in TILE.findall(tiles.content.decode())}
        emma = found["Emma"]
        code = emma.strip("/").split("/")[-1]
        page("GET /leerling/<code>/foto (tile picture)", "get", f"/leerling/{code}/foto", 200)
        page("GET /kind/<code>/ (PIN pad)", "get", emma, 200)
        page("POST /kind/<code>/ (PIN)", "post", emma, 302, {"entered": PIN})
        page("GET /software/", "get", "/software/", 200)
        page("POST /software/<code>/openen/", "post", f"/software/{product_code}/openen/", 302)
        page("GET /software/<code>/gestart/", "get", f"/software/{product_code}/gestart/", 200)
        page("GET /healthz", "get", "/healthz", 200)
        page("GET /bench/leeg/", "get", "/bench/leeg/", 200)

    flow(capture=True)
    cpu.clear()
    for _ in range(warm_rounds):
        flow(capture=False)
    for name, times in cpu.items():
        pages[name]["cpu_ms_in_process"] = statistics.median(times)
    return pages


# --- Locust runs ---------------------------------------------------------------------------


@dataclass
class Run:
    key: str
    user_class: str
    users: int
    seconds: int
    summary: dict = field(default_factory=dict)
    cpu: dict = field(default_factory=dict)
    exit_code: int = 0
    log_tail: str = ""


def run_locust(run: Run, port: int, folder: Path, families: int, product: str, sampler: Sampler):
    out = folder / f"{run.key}.json"
    env = dict(os.environ)
    env.update(
        BENCH_OUT=str(out),
        BENCH_FAMILIES=str(families),
        BENCH_USERS=str(run.users),
        BENCH_PRODUCT=product,
    )
    command = [
        str(LOCUST), "-f", str(LOCUSTFILE), "--headless",
        "-u", str(run.users), "-r", str(run.users), "-t", f"{run.seconds}s",
        "--host", f"http://127.0.0.1:{port}",
        "--csv", str(folder / run.key), "--only-summary", "--stop-timeout", "10",
        "--loglevel", "WARNING", run.user_class,
    ]  # fmt: skip
    with (folder / f"{run.key}.log").open("w") as log:
        process = subprocess.Popen(  # noqa: S603 (our own virtualenv's locust)
            command, cwd=ROOT, env=env, stdout=log, stderr=log
        )
        sampler.locust = process.pid
        try:
            run.exit_code = process.wait(timeout=run.seconds + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            run.exit_code = process.wait()
        sampler.locust = 0
    run.log_tail = (folder / f"{run.key}.log").read_text(errors="replace")[-3000:]
    if not out.exists():
        print(run.log_tail, file=sys.stderr)
        raise SystemExit(f"Locust run {run.key} wrote no summary (exit {run.exit_code})")
    run.summary = json.loads(out.read_text())
    run.cpu = window_cpu(run.summary, sampler)


def window_cpu(summary: dict, sampler: Sampler) -> dict:
    """CPU over the measuring window: in cores busy, and per request and per flow."""
    covered, spent = sampler.cpu_between(summary["window_start"], summary["window_end"])
    if not covered:
        return {}
    steps = summary["steps"]
    requests = sum(
        step["requests_in_window"] for name, step in steps.items() if name != "complete home flow"
    )
    server = spent["gunicorn"] + spent["postgres"]
    cpu = {
        "seconds": covered,
        "gunicorn_cores": spent["gunicorn"] / covered,
        "postgres_cores": spent["postgres"] / covered,
        "locust_cores": spent["locust"] / covered,
        "other_cores": max(0.0, spent["busy"] - server - spent["locust"]) / covered,
        "machine_busy_cores": spent["busy"] / covered,
        "requests_per_s": requests / summary["window_seconds"],
        "gunicorn_cpu_ms_per_request": 1000 * spent["gunicorn"] / max(requests, 1),
        "postgres_cpu_ms_per_request": 1000 * spent["postgres"] / max(requests, 1),
    }
    flows = steps.get("complete home flow", {}).get("requests_in_window", 0)
    if flows:
        cpu["gunicorn_cpu_ms_per_flow"] = 1000 * spent["gunicorn"] / flows
        cpu["server_cpu_ms_per_flow"] = 1000 * server / flows
        cpu["server_only_ceiling_flows_per_s"] = CORES / (server / flows)
    elif requests and server:
        cpu["server_only_ceiling_per_s"] = CORES / (server / requests)
    return cpu


# --- Output ----------------------------------------------------------------------------------


def fmt(value, digits=1) -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:.{digits}f}"


# Steps that hash nothing (the p95 ≤ 4 × p50 target applies to these).
NO_HASHING = [1, 3, 4, 6, 7, 8]


def targets(results: dict) -> list[dict]:
    """The issue's targets, as ratios from this run."""
    flows = results["flows_per_second"]
    argon2 = results["argon2"]
    bare = results["bare_view_requests_per_second"]
    steps = results["flow"]["steps"]
    spread = max(
        (steps[name]["p95_ms"] / steps[name]["p50_ms"], name)
        for number, (name, _key) in enumerate(FLOW_STEPS, start=1)
        if number in NO_HASHING and steps.get(name, {}).get("p50_ms")
    )
    return [
        {
            "target": "complete flows ≥ 70 % of the Argon2 bound (2 × a password verification)",
            "ratio": flows / argon2["bound_two_password_verifications_flows_per_s"],
            "needed": 0.70,
        },
        {
            "target": "complete flows ≥ 70 % of the Argon2 bound (password + this portal's PIN)",
            "ratio": flows / argon2["bound_flows_per_s"],
            "needed": 0.70,
        },
        {
            "target": "tile page ≥ 50 % of the bare view",
            "ratio": results["tile_page_requests_per_second"] / bare,
            "needed": 0.50,
        },
        {
            "target": "software page ≥ 50 % of the bare view",
            "ratio": results["software_page_requests_per_second"] / bare,
            "needed": 0.50,
        },
        {
            "target": f"p95 ≤ 4 × p50 without hashing (widest: {spread[1].strip()})",
            "ratio": spread[0],
            "needed": 4.0,
            "at_most": True,
        },
    ]


def print_table(results: dict) -> None:
    flow = results["flow"]
    steps = flow["steps"]
    queries = results["queries_per_page"]
    config = results["config"]
    print()
    print(
        f"Home flow under load: {config['cores']} cores, gunicorn {config['workers']} sync "
        f"worker(s) × {config['threads']} thread(s), Locust on the same machine over loopback"
    )
    print(
        f"Flow: {flow['users']} users for {config['flow_seconds']} s without think time; "
        f"pages: {config['page_users']} users for {config['page_seconds']} s each; "
        "figures from the steady window (after all users logged in)"
    )
    header = (
        f"{'':44} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'fails':>6} "
        f"{'queries':>8} {'CPU ms':>7}"
    )
    print(header)
    print("-" * len(header))

    def line(label, stats, query_key=None, rate_digits=1):
        page = queries.get(query_key, {}) if query_key else {}
        q = page.get("queries", "")
        if page.get("transaction_statements"):
            q = f"{q}+{page['transaction_statements']}"  # SQL + BEGIN/COMMIT
        cpu = fmt(page["cpu_ms_in_process"]) if "cpu_ms_in_process" in page else ""
        print(
            f"{label:44} {fmt(stats.get('per_second'), rate_digits):>8} "
            f"{fmt(stats.get('p50_ms'), 0):>8} {fmt(stats.get('p95_ms'), 0):>8} "
            f"{fmt(stats.get('p99_ms'), 0):>8} {stats.get('failures_total', 0):>6} "
            f"{q:>8} {cpu:>7}"
        )

    line("Complete home flows (8 requests each)", steps.get("complete home flow", {}))
    flow_cpu = sum(queries[key].get("cpu_ms_in_process", 0) for _name, key in FLOW_STEPS)
    for name, query_key in FLOW_STEPS:
        line(f"  {name}", steps.get(name, {}), query_key)
    bound = results["argon2"]
    argon2_ms = bound["password_cpu_ms"] + bound["pin_cpu_ms"]
    print(
        f"{'Argon2 bound (flows/s)':44} {fmt(bound['bound_flows_per_s']):>8}   "
        f"= {bound['cores']} cores ÷ ({fmt(bound['password_cpu_ms'])} ms password "
        f"+ {fmt(bound['pin_cpu_ms'])} ms PIN CPU)"
    )
    print(
        f"{'  as 2 × a password verification':44} "
        f"{fmt(bound['bound_two_password_verifications_flows_per_s']):>8}   "
        f"= {bound['cores']} cores ÷ (2 × {fmt(bound['password_cpu_ms'])} ms)"
    )
    print(
        f"{'In-process CPU bound (flows/s)':44} {fmt(bound['cores'] * 1000 / flow_cpu):>8}   "
        f"= {bound['cores']} cores ÷ {fmt(flow_cpu, 0)} ms CPU of the 8 pages in Django "
        f"({fmt(argon2_ms, 0)} ms of it Argon2)"
    )
    for key, label, query_key in PAGE_RUNS_TABLE:
        page = results["pages"].get(key)
        if page:
            stats = next(iter(s for n, s in page["steps"].items() if not n.startswith("setup")))
            line(label, stats, query_key)
    print()
    memory = results["memory"]
    print(
        f"Peak worker memory (VmHWM): {fmt(memory['peak_worker_vmhwm_mib'])} MiB per worker "
        f"({fmt(memory['worker_vmhwm_mib_at_start'])} MiB after start); "
        f"all of gunicorn at most {fmt(memory['peak_total_rss_mib'])} MiB RSS "
        f"(master {fmt(memory['master_vmhwm_mib'])} MiB); worker processes seen: "
        f"{memory['worker_processes_seen']} (max_requests restarts)"
    )
    print(f"CPU in the measuring windows (cores busy on average, of {config['cores']}):")
    for key, run in [("flow", flow), *results["pages"].items()]:
        cpu = run["cpu"]
        if not cpu:
            continue
        if "server_only_ceiling_flows_per_s" in cpu:
            per = (
                f"server {fmt(cpu['server_cpu_ms_per_flow'], 0)} ms CPU/flow → ceiling "
                f"{fmt(cpu['server_only_ceiling_flows_per_s'])} flows/s"
            )
        else:
            server = cpu["gunicorn_cpu_ms_per_request"] + cpu["postgres_cpu_ms_per_request"]
            per = (
                f"server {fmt(server)} ms CPU/req → ceiling "
                f"{fmt(cpu.get('server_only_ceiling_per_s'), 0)} req/s"
            )
        print(
            f"  {key:9} gunicorn {fmt(cpu['gunicorn_cores'], 2)}  postgres "
            f"{fmt(cpu['postgres_cores'], 2)}  locust {fmt(cpu['locust_cores'], 2)}  other "
            f"{fmt(cpu['other_cores'], 2)} | {per}"
        )
    db = results["database_after"]
    print(
        f"Database afterwards: {db['sessions']} session rows, {db['launch_events']} launch "
        f"events, django_session {db['session_table_kib']} KiB"
    )
    print("Targets (ratios from this run):")
    for target in results.get("targets", []):
        met = (
            target["ratio"] <= target["needed"]
            if target.get("at_most")
            else target["ratio"] >= target["needed"]
        )
        shown = f"{target['ratio']:.2f} ×" if target.get("at_most") else f"{target['ratio']:.0%}"
        print(f"  {target['target']:78} {shown:>7}  {'met' if met else 'NOT MET'}")
    if results["problems"]:
        print("Problems:")
        for problem in results["problems"]:
            print(f"  - {problem}")


FLOW_STEPS = [
    ("1 GET / (login page)", "GET / (login page)"),
    ("2 POST / (parent login)", "POST / (parent login)"),
    ("3 GET /kinderen/ (tiles)", "GET /kinderen/ (tiles)"),
    ("4 GET /kind/<code>/ (PIN pad)", "GET /kind/<code>/ (PIN pad)"),
    ("5 POST /kind/<code>/ (PIN)", "POST /kind/<code>/ (PIN)"),
    ("6 GET /software/", "GET /software/"),
    ("7 POST /software/<code>/openen/", "POST /software/<code>/openen/"),
    ("8 GET /software/<code>/gestart/", "GET /software/<code>/gestart/"),
]
PAGE_RUNS = [
    ("tiles", "TilePageUser"),
    ("software", "SoftwarePageUser"),
    ("bare", "BareUser"),
    ("healthz", "HealthzUser"),
]
PAGE_RUNS_TABLE = [
    ("tiles", "Tile page alone (/kinderen/, parent)", "GET /kinderen/ (tiles)"),
    ("software", "Software page alone (/software/, child)", "GET /software/"),
    ("bare", "Bare Django view (/bench/leeg/)", "GET /bench/leeg/"),
    ("healthz", "Stand-in: /healthz (1st middleware)", "GET /healthz"),
]


# --- Main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10, help="Locust users in the flow run")
    parser.add_argument("--page-users", type=int, default=10, help="users in the page runs")
    parser.add_argument("--flow-seconds", type=int, default=60)
    parser.add_argument("--page-seconds", type=int, default=15)
    parser.add_argument("--families", type=int, default=200, help="copies of the demo family")
    parser.add_argument(
        "--workers", type=int, default=gunicorn_setting("workers"), help="gunicorn.conf.py's"
    )
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", "1")))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--keep-logs", type=Path, help="copy the gunicorn and Locust logs and CSV files here"
    )
    args = parser.parse_args()
    if not LOCUST.exists():
        raise SystemExit(f"Locust is missing: {BIN / 'pip'} install '.[bench]'")
    if args.families < max(args.users, args.page_users):
        raise SystemExit("--families must be at least the number of users")

    began = time.monotonic()
    from bench.import_speed import throwaway_database

    folder = Path(tempfile.mkdtemp(prefix="thuisportaal-load-"))
    try:
        with throwaway_database(postgres=True) as database_url:
            results = measure(args, database_url, folder)
    finally:
        if args.keep_logs:
            args.keep_logs.mkdir(parents=True, exist_ok=True)
            for path in folder.iterdir():
                if path.suffix in {".log", ".csv", ".json"} and path.name != "demo-publisher.json":
                    shutil.copy(path, args.keep_logs / path.name)
        shutil.rmtree(folder, ignore_errors=True)
    results["total_seconds"] = time.monotonic() - began
    results["targets"] = targets(results)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print_table(results)
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"\nWritten to {shown}; {results['total_seconds']:.0f} s in all.")


def measure(args, database_url: str, folder: Path) -> dict:
    port = free_port()
    env = production_env(
        database_url, port, folder, workers=args.workers, threads=args.threads, BENCH_VIEWS="true"
    )
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "basispoort.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from bench.seed import family_email
    from launcher.models import LaunchEvent, Product

    step = time.monotonic()
    print(f"Database {connection.settings_dict['NAME']}: migrating and seeding …", flush=True)
    prepare_database(folder, args.families)
    product = Product.objects.get(name=PRODUCT)
    assert product.client_id is None, f"{PRODUCT} must open without single sign-on"
    print(f"  ready in {time.monotonic() - step:.0f} s", flush=True)

    print("Argon2: one password and one PIN verification …", flush=True)
    argon2 = argon2_bound()
    print("Queries per page (test client, same database) …", flush=True)
    queries = count_queries(family_email(args.families - 1), str(product.code))
    connection.close()

    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {
            "cores": CORES,
            "workers": args.workers,
            "threads": args.threads,
            "worker_class": "gthread" if args.threads > 1 else "sync",
            "gunicorn_max_requests": gunicorn_setting("max_requests"),
            "flow_users": args.users,
            "page_users": args.page_users,
            "flow_seconds": args.flow_seconds,
            "page_seconds": args.page_seconds,
            "families": args.families,
            "python": platform.python_version(),
            "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
            "session_engine": settings.SESSION_ENGINE,
            "session_cookie": settings.SESSION_COOKIE_NAME,
            "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
            "product": PRODUCT,
        },
        "argon2": argon2,
        "queries_per_page": queries,
        "problems": [],
    }

    print(f"gunicorn on 127.0.0.1:{port} ({args.workers} workers × {args.threads} threads) …")
    with (
        gunicorn(env, folder) as server,
        Sampler(server.pid, connection.settings_dict["NAME"]) as memory,
    ):
        runs = [Run("flow", "HomeFlowUser", args.users, args.flow_seconds)]
        runs += [Run(key, cls, args.page_users, args.page_seconds) for key, cls in PAGE_RUNS]
        for run in runs:
            memory.phase = run.key
            print(f"Locust {run.user_class}: {run.users} users, {run.seconds} s …", flush=True)
            run_locust(run, port, folder, args.families, str(product.code), memory)
            failures = sum(s["failures_total"] for s in run.summary["steps"].values())
            if failures:
                results["problems"].append(
                    f"{run.key}: {failures} failed requests or flows (see Locust output: "
                    + run.log_tail.strip().splitlines()[-1][:200]
                    + ")"
                )
            other = run.cpu.get("other_cores", 0.0)
            if other > 0.2:
                results["problems"].append(
                    f"{run.key}: something else on the machine used {other:.2f} cores during "
                    "the window (other processes or other databases on the PostgreSQL "
                    "server): this run's figures are lower than on a quiet machine"
                )
            if not run.summary.get("all_users_ready"):
                results["problems"].append(f"{run.key}: not every user got logged in")
        memory.phase = "end"

    flow = runs[0]
    results["flow"] = {**flow.summary, "cpu": flow.cpu, "users": flow.users}
    results["pages"] = {run.key: {**run.summary, "cpu": run.cpu} for run in runs[1:]}
    results["flows_per_second"] = flow.summary["steps"]["complete home flow"]["per_second"]
    results["bare_view_requests_per_second"] = _rate(results["pages"]["bare"])
    results["healthz_requests_per_second"] = _rate(results["pages"]["healthz"])
    flow_cpu = sum(queries[key]["cpu_ms_in_process"] for _name, key in FLOW_STEPS)
    results["in_process_cpu_ms_per_flow"] = flow_cpu
    results["in_process_bound_flows_per_s"] = CORES * 1000 / flow_cpu
    results["tile_page_requests_per_second"] = _rate(results["pages"]["tiles"])
    results["software_page_requests_per_second"] = _rate(results["pages"]["software"])
    seen = set().union(*memory.workers_seen.values()) if memory.workers_seen else set()
    results["memory"] = {
        "peak_worker_vmhwm_mib": max(memory.peak_hwm.values(), default=0) / 1024,
        "peak_worker_vmhwm_mib_per_run": {k: v / 1024 for k, v in memory.peak_hwm.items()},
        "peak_total_rss_mib": max(memory.peak_total_rss.values(), default=0) / 1024,
        "master_vmhwm_mib": memory.master_hwm / 1024,
        "worker_vmhwm_mib_at_start": memory.peak_hwm.get("start", 0) / 1024,
        "worker_processes_seen": len(seen),
    }
    if len(seen) > args.workers:
        results["problems"].append(
            f"gunicorn restarted workers {len(seen) - args.workers} times during the runs "
            f"(max_requests = {gunicorn_setting('max_requests')} in gunicorn.conf.py); "
            "each restart imports Django again"
        )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), pg_total_relation_size('django_session') FROM django_session"
        )
        sessions, session_bytes = cursor.fetchone()
    results["database_after"] = {
        "sessions": sessions,
        "session_table_kib": session_bytes // 1024,
        "launch_events": LaunchEvent.objects.count(),
    }
    connection.close()
    return results


def _rate(page: dict) -> float:
    return next(s["per_second"] for n, s in page["steps"].items() if not n.startswith("setup"))


if __name__ == "__main__":
    main()
