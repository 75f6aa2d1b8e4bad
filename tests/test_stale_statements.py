"""A prepared statement made stale by a migration in another process: a 503, a new connection."""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections

from launcher import views

pytestmark = pytest.mark.django_db

STALE = "cached plan must not change result type"


@pytest.fixture
def connection_mark():
    connection = connections[DEFAULT_DB_ALIAS]
    before = connection.close_at
    yield connection
    connection.close_at = before


def test_a_stale_statement_gives_the_retry_page_and_a_new_connection(
    client, cast, monkeypatch, connection_mark
):
    def stale(user_id):
        raise NotSupportedError(STALE)

    monkeypatch.setattr(views._TILES, "rows", stale)
    client.force_login(cast.parent_a)

    response = client.get("/kinderen/")

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "probeer het" in response.content.decode().lower()
    assert connection_mark.close_at == 0  # closed when the request finishes


def test_another_unsupported_operation_is_not_taken_for_a_stale_statement(
    client, cast, monkeypatch, connection_mark
):
    def unsupported(user_id):
        raise NotSupportedError("something else")

    monkeypatch.setattr(views._TILES, "rows", unsupported)
    client.force_login(cast.parent_a)
    client.raise_request_exception = False

    response = client.get("/kinderen/")

    assert response.status_code == 500
    assert connection_mark.close_at != 0
