"""The demo publisher's settings, views and server.

Configuration comes from a JSON file written by `manage.py seed_demo` (issuer, client_id,
client_secret, base URL), or from DEMO_PUBLISHER_* environment variables.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "var" / "demo-publisher.json"
SCOPE = "openid profile school"

PAGE = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rekenrups</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #fff7d6; color: #1d2433; margin: 0; }}
main {{ max-width: 36rem; margin: 3rem auto; padding: 0 1rem; text-align: center; }}
h1 {{ font-size: 2.2rem; }} code {{ word-break: break-all; }}
dl {{ text-align: left; background: #fff; padding: 1rem 1.5rem; border-radius: 1rem; }}
dt {{ font-weight: 700; margin-top: .5rem; }}
</style></head>
<body><main>{body}</main></body></html>"""


def load_config(path: Path) -> dict:
    config = json.loads(path.read_text()) if path.is_file() else {}
    for key in ("issuer", "client_id", "client_secret", "base_url"):
        config[key] = os.environ.get(f"DEMO_PUBLISHER_{key.upper()}", config.get(key, ""))
    missing = [key for key, value in config.items() if not value]
    if missing:
        raise SystemExit(
            f"Demo publisher: {', '.join(missing)} missing; run `manage.py seed_demo` first."
        )
    return config


def configure(config: dict) -> None:
    settings.configure(
        DEBUG=False,
        SECRET_KEY=secrets.token_urlsafe(50),  # new per start: sessions are short anyway
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.sessions"],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
        # Sessions on the server (this process's memory), not in a readable cookie: they hold
        # the PKCE verifier and the pupil's claims. They end when the browser closes.
        SESSION_ENGINE="django.contrib.sessions.backends.cache",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        SESSION_EXPIRE_AT_BROWSER_CLOSE=True,
        # The portal may run on the same host: cookies do not tell ports apart.
        SESSION_COOKIE_NAME="rekenrups_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        AUTHLIB_OAUTH_CLIENTS={
            "thuisportaal": {
                "client_id": config["client_id"],
                "client_secret": config["client_secret"],
                "server_metadata_url": config["issuer"] + "/.well-known/openid-configuration",
                "client_kwargs": {"scope": SCOPE, "code_challenge_method": "S256"},
            }
        },
        DEMO_PUBLISHER=config,
        USE_TZ=True,
    )
    django.setup()


def _oauth():
    from authlib.integrations.django_client import OAuth

    oauth = OAuth()
    oauth.register("thuisportaal")
    return oauth.thuisportaal


def initiate_login(request):
    """Third-party-initiated login: the portal sends the child here with its issuer."""
    from django.http import HttpResponseBadRequest

    config = settings.DEMO_PUBLISHER
    if request.GET.get("iss") != config["issuer"]:
        return HttpResponseBadRequest("Onbekende uitgever van de inlog (iss).")
    request.session["target_link_uri"] = request.GET.get("target_link_uri", "")
    return _oauth().authorize_redirect(request, config["base_url"] + "/callback")


def callback(request):
    from authlib.integrations.base_client import OAuthError
    from django.http import HttpResponse
    from django.shortcuts import redirect
    from django.utils.html import escape

    try:
        token = _oauth().authorize_access_token(request)
    except OAuthError as error:
        body = f"<h1>Inloggen lukte niet</h1><p>{escape(error.error)}</p>"
        return HttpResponse(PAGE.format(body=body), status=403)
    request.session["pupil"] = dict(token["userinfo"])
    return redirect("/")


def home(request):
    from django.http import HttpResponse
    from django.utils.html import escape

    pupil = request.session.get("pupil")
    if not pupil:
        body = "<h1>Rekenrups</h1><p>Open Rekenrups via Thuisportaal.</p>"
        return HttpResponse(PAGE.format(body=body))
    facts = "".join(
        f"<dt>{escape(name)}</dt><dd><code>{escape(str(value))}</code></dd>"
        for name, value in sorted(pupil.items())
        if name not in {"nonce", "at_hash"}
    )
    body = (
        f"<h1>Hoi {escape(pupil.get('given_name', ''))}!</h1>"
        f"<p class='group'>Welkom bij Rekenrups, {escape(pupil.get('group_name', ''))}.</p>"
        f"<p>Dit kreeg Rekenrups van Thuisportaal, in een ondertekend ID-token:</p><dl>{facts}</dl>"
        "<form method='post' action='/logout'><button type='submit'>Stoppen</button></form>"
    )
    return HttpResponse(PAGE.format(body=body))


def logout(request):
    from django.shortcuts import redirect

    if request.method == "POST":
        request.session.flush()
    return redirect("/")


def _urlpatterns():
    from django.urls import path

    return [
        path("", home),
        path("login", initiate_login),
        path("callback", callback),
        path("logout", logout),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    args = parser.parse_args()
    configure(load_config(args.config))
    global urlpatterns
    urlpatterns = _urlpatterns()

    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import run

    print(f"Demo-uitgever Rekenrups op http://127.0.0.1:{args.port}/", flush=True)
    run("127.0.0.1", args.port, WSGIHandler(), threading=True)
