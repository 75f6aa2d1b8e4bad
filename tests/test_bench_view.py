"""The benchmark's empty page exists only when BENCH_VIEWS is on."""

from __future__ import annotations

import importlib

import pytest
from django.urls import clear_url_caches

import basispoort.urls


@pytest.fixture
def reload_urls(settings):
    yield
    settings.BENCH_VIEWS = False  # before the URLs are read again for the tests that follow
    importlib.reload(basispoort.urls)
    clear_url_caches()


def test_it_has_no_empty_page_by_default(client, db):
    assert client.get("/bench/leeg/").status_code == 404


def test_it_serves_an_empty_page_through_all_middleware_when_asked(
    client, db, settings, reload_urls
):
    settings.BENCH_VIEWS = True
    importlib.reload(basispoort.urls)
    clear_url_caches()
    response = client.get("/bench/leeg/")
    assert response.status_code == 200
    assert response.content == b""
    assert "Content-Security-Policy" in response.headers  # the middleware ran


def test_it_has_no_empty_page_again_afterwards(client, db):
    assert client.get("/bench/leeg/").status_code == 404
