"""The 503 page itself, in-process: made without a single query, wherever the error came from.

No test here may touch the database (no ``db`` fixture): pytest-django turns any query into
an error, so the page is proved to render while the database is gone.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, ProgrammingError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

pytestmark = pytest.mark.faults

FRIENDLY = "Probeer het over een paar minuten opnieuw."


class FailsAfterTheView:
    """Stands in for a middleware whose database write after the view fails (a session save)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        self.get_response(request)
        raise OperationalError("server closed the connection unexpectedly")


def database_fails(error: Exception):
    """Every query raises ``error``, as when the server is gone (this is the lowest point
    that every query passes, so the 503 page cannot reach the database either)."""
    return mock.patch.object(BaseDatabaseWrapper, "ensure_connection", side_effect=error)


def assert_friendly(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "no-cache" in response["Cache-Control"]
    text = response.content.decode()
    assert FRIENDLY in text
    assert "Traceback" not in text and "OperationalError" not in text
    assert "Uitloggen" not in text  # no user on the page: that would need the database


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_view_that_loses_the_database_answers_503(error):
    with database_fails(error("connection refused")):
        response = Client().post("/", {"username": "ouder@example.com", "password": "x"})
    assert_friendly(response)
    assert response["Content-Language"] == "nl"
    assert response["X-Frame-Options"] == "DENY"  # it went through the other middleware


def test_a_middleware_that_loses_the_database_answers_503(settings):
    index = settings.MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[: index + 1],
        f"{__name__}.FailsAfterTheView",
        *settings.MIDDLEWARE[index + 1 :],
    ]
    response = Client(raise_request_exception=False).get("/wachtwoord-vergeten/")
    assert_friendly(response)


def test_other_database_errors_stay_errors():
    with database_fails(ProgrammingError('relation "accounts_loginthrottle" does not exist')):
        response = Client(raise_request_exception=False).post(
            "/", {"username": "ouder@example.com", "password": "x"}
        )
    assert response.status_code == 500


def test_developers_get_the_error_itself(settings):
    settings.DEBUG = True
    with (
        database_fails(OperationalError("down")),
        pytest.raises(OperationalError),
    ):
        Client().post("/", {"username": "ouder@example.com", "password": "x"})
