"""What every fuzz test shares: one rolled-back savepoint per example, row counts, a tally."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.apps import apps
from django.db import transaction
from django.db.models import Model
from django.test import Client
from hypothesis import HealthCheck, settings

#: Examples run per test (by node id), printed at the end of the run: "inputs fuzzed: N".
TALLIES: dict[str, Counter] = {}

#: Tables whose rows change with every visit, whatever the form says.
NOT_COUNTED = {"sessions.Session"}


class Fuzz:
    """Per test: runs each example in a savepoint that is rolled back, and counts outcomes.

    Hypothesis runs all examples inside one test function and so inside one test
    transaction; rolling each example back gives every example the cast as the fixtures
    built it.
    """

    def __init__(self, tally: Counter):
        self.tally = tally

    @contextmanager
    def example(self, *, database: bool = True):
        """One example; with ``database``, inside a savepoint that is then rolled back."""
        self.tally["examples"] += 1
        if not database:
            yield
            return
        with transaction.atomic():
            yield
            transaction.set_rollback(True)

    def note(self, outcome: str) -> None:
        """Record what an example came to ("accepted", "refused", ...), for the summary."""
        self.tally[outcome] += 1


def with_fixtures(test):
    """For a test that takes pytest fixtures: every example runs in its own rolled-back
    savepoint (``fuzz.example()``) and a fresh browser, so sharing the function-scoped
    fixtures between examples is safe, and Hypothesis need not warn about it."""
    suppressed = [*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture]
    return settings(suppress_health_check=suppressed)(test)


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.label not in NOT_COUNTED
    }


def changed_counts(before: dict[str, int], after: dict[str, int] | None = None) -> dict[str, int]:
    """Tables whose number of rows changed, with the change (``after`` defaults to now)."""
    after = row_counts() if after is None else after
    return {
        label: after[label] - before[label] for label in before if after[label] != before[label]
    }


def row(obj: Model) -> dict:
    """The object's row as the database has it now."""
    return type(obj)._default_manager.filter(pk=obj.pk).values().get()


def logged_in(user) -> Client:
    """A fresh browser logged in as ``user`` (exceptions in a view fail the test)."""
    client = Client(raise_request_exception=True)
    client.force_login(user)
    return client


def stays_on_site(location: str) -> bool:
    """Whether a redirect keeps the browser on this site (a relative address, or ours)."""
    parts = urlsplit(location)
    return (
        parts.scheme in ("", "http", "https")
        and parts.netloc in ("", "testserver")
        and not location.lstrip().startswith(("//", "/\\", "\\"))
        and not any(ch in location for ch in "\x00\t\n\r")
    )


def no_server_error(response) -> None:
    assert response.status_code < 500, response.status_code
