"""Hypothesis profiles for the fuzz tests, the per-test tally, and the summary at the end.

``ci`` (the default) is quick and deterministic; ``HYPOTHESIS_PROFILE=fuzz`` (``make fuzz``)
runs thousands of random examples per test. Nothing Hypothesis stores goes into the
repository: its caches and the failing examples ``fuzz`` keeps live under var/ (ignored by git).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

from tests.fuzz.support import TALLIES, Fuzz

ROOT = Path(__file__).resolve().parents[2]
HYPOTHESIS_HOME = ROOT / "var" / "hypothesis"
set_hypothesis_home_dir(HYPOTHESIS_HOME)

settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=2_000,
    deadline=None,
    database=DirectoryBasedExampleDatabase(HYPOTHESIS_HOME / "examples"),
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def fuzz(request) -> Fuzz:
    tally = TALLIES.setdefault(request.node.nodeid, Counter())
    return Fuzz(tally)


def pytest_terminal_summary(terminalreporter):
    if not TALLIES:
        return
    profile = settings.get_current_profile_name()
    terminalreporter.write_sep("-", f"inputs fuzzed (Hypothesis profile {profile!r})")
    for nodeid, tally in TALLIES.items():
        details = ", ".join(f"{k} {v}" for k, v in sorted(tally.items()) if k != "examples")
        line = f"{tally['examples']:>6}  {nodeid.split('::')[-1]}"
        terminalreporter.write_line(f"{line}  ({details})" if details else line)
    total = sum(tally["examples"] for tally in TALLIES.values())
    terminalreporter.write_line(f"{total:>6}  inputs fuzzed in {len(TALLIES)} tests")
