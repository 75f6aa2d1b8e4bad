from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_it_speaks_dutch_to_an_english_browser(client):
    response = client.get("/beheer/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "nl"
    assert "Wachtwoord" in response.text
    assert "Password" not in response.text


def test_it_speaks_english_when_chosen(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/beheer/login/"})
    assert response.status_code == 302
    response = client.get("/beheer/login/")
    assert response["Content-Language"] == "en"
    assert "Password" in response.text


def test_it_ignores_an_unknown_language_cookie(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"
    response = client.get("/")
    assert response["Content-Language"] == "nl"
    assert "Thuis inloggen" in response.text
