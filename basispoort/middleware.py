"""Language choice: Dutch unless the visitor chose English with the language switch."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


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
