"""Language choice, and a plain answer while the database cannot be reached."""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import (
    DEFAULT_DB_ALIAS,
    InterfaceError,
    NotSupportedError,
    OperationalError,
    connections,
)
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers

logger = logging.getLogger(__name__)


class LanguageMiddleware:
    """Activates the language from the language cookie, else Dutch.

    Django's LocaleMiddleware would follow the browser's Accept-Language, and many Dutch
    parents and teachers use a phone or laptop set to English. The product is Dutch; English
    is there for whoever asks for it (``/i18n/setlang/``).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


#: What the 503 page asks: come back in a minute (the page itself says "a few minutes").
RETRY_AFTER_SECONDS = 60
_UNAVAILABLE = "_database_unavailable"
_DATABASE_DOWN = (OperationalError, InterfaceError)


def _stale_plan(exception) -> bool:
    """A prepared statement whose table a migration changed in another process: PostgreSQL
    refuses it ("cached plan must not change result type") for as long as the connection
    lives. The connection is closed at the end of the request; the next one prepares anew."""
    if isinstance(exception, NotSupportedError) and "cached plan must not change" in str(exception):
        connections[DEFAULT_DB_ALIAS].close_at = 0  # closed when the request finishes
        return True
    return False


def database_unavailable(request):
    """The "probeer het over een paar minuten opnieuw" page, made without the database.

    No user, no session, no messages: templates/503.html shows none of them.
    """
    response = render(request, "503.html", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def _note_database_error(sender, request=None, **kwargs):
    error = sys.exc_info()[1]
    if request is not None and (isinstance(error, _DATABASE_DOWN) or _stale_plan(error)):
        setattr(request, _UNAVAILABLE, True)


class DatabaseUnavailableMiddleware:
    """A friendly 503 with Retry-After while PostgreSQL restarts or fails over.

    Connection errors then reach a view as OperationalError or InterfaceError; without this
    each would be a bare "Server Error (500)". A view's error is answered here directly.
    An error in a middleware (such as saving the session after the view) has become a 500
    before this outermost middleware sees it: Django's got_request_exception signal marks
    the request, and the 500 is swapped for the same page. No restart is needed afterwards:
    each worker checks its connection before reusing it (CONN_HEALTH_CHECKS) and opens a new
    one. The same page answers a prepared statement that a migration made stale, and that
    connection is replaced. With DEBUG on, developers get Django's error page instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_note_database_error, dispatch_uid=__name__)

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 500
            and getattr(request, _UNAVAILABLE, False)
            and not settings.DEBUG
        ):
            unavailable = database_unavailable(request)
            # The 500 passed through the inner middleware; keep the headers they added.
            for header, value in response.items():
                if header.lower() not in {"content-type", "content-length"}:
                    unavailable.headers.setdefault(header, value)
            response = unavailable
        return response

    def process_exception(self, request, exception):
        if settings.DEBUG or not (isinstance(exception, _DATABASE_DOWN) or _stale_plan(exception)):
            return None
        # django.request logs the 503 itself as an error; this adds the cause.
        logger.warning(
            "Database unavailable, answered 503: %s %s: %s: %s",
            request.method,
            request.path,
            type(exception).__name__,
            str(exception).strip(),
        )
        return database_unavailable(request)
