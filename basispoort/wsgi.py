"""WSGI entry point: ``gunicorn basispoort.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "basispoort.settings")

application = get_wsgi_application()
