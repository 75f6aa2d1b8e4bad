"""Settings for Thuisportaal.

Every deployment knob is an environment variable (see README, "Configuration"). The defaults
are for development on one machine: SQLite under var/, e-mail written to files under var/mail/.
With DEBUG off the defaults turn strict and the process refuses to start without a real
SECRET_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from basispoort.lib.config import mailer_from_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)

# Django's own deploy check calls a key weak when it is short, repetitive or the
# "django-insecure-" placeholder; production must not start with such a key.
_DEV_SECRET_KEY = "django-insecure-development-only-never-use-this-key-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = _DEV_SECRET_KEY
if not DEBUG and (
    len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-")
):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random string of at least 50 characters when DEBUG is off."
    )

_LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=_LOCAL_HOSTS if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the portal's host name when DEBUG is off.")
if DEBUG and set(ALLOWED_HOSTS) - set(_LOCAL_HOSTS):
    # DEBUG defaults to on for development; a server that answers to a real host name
    # must say DEBUG=false rather than show debug pages to the world.
    raise ImproperlyConfigured("DEBUG is on while ALLOWED_HOSTS names other hosts than this one.")

# Links in e-mails and redirects to publishers are built from this, never from the Host header.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# ID tokens for publishers: the RSA private key (PEM text or a file path), the next key
# (published before it signs) and earlier keys (still published after); see sso/keys.py.
OIDC_SIGNING_KEY = env.str("OIDC_SIGNING_KEY", default="", multiline=True)
OIDC_NEXT_SIGNING_KEYS = env.list("OIDC_NEXT_SIGNING_KEYS", default=[])
OIDC_PREVIOUS_SIGNING_KEYS = env.list("OIDC_PREVIOUS_SIGNING_KEYS", default=[])
# Serves /bench/leeg/, an empty page through all middleware, for the load benchmark only.
BENCH_VIEWS = env.bool("BENCH_VIEWS", default=False)

# Pupils marked as left (by an import or by hand) are deleted this many days later.
LEFT_PUPIL_RETENTION_DAYS = env.int("LEFT_PUPIL_RETENTION_DAYS", default=365)
# Security events in the audit log are deleted this many days after they happened.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
# A parent account left without a child at school is switched off at once and deleted this
# many days later, unless the school enters the address for a pupil again.
ORPHAN_ACCOUNT_RETENTION_DAYS = env.int("ORPHAN_ACCOUNT_RETENTION_DAYS", default=30)
# Sent and failed e-mails (addresses, children's first names) leave the outbox this many days
# after they were written; queued ones stay until they are sent or fail.
MAIL_RETENTION_DAYS = env.int("MAIL_RETENTION_DAYS", default=30)

# Where `make run` serves the demo publisher that seed_demo registers as a client.
DEMO_PUBLISHER_URL = env.str("DEMO_PUBLISHER_URL", default="http://127.0.0.1:8001").rstrip("/")
if not DEBUG and not OIDC_SIGNING_KEY:
    raise ImproperlyConfigured(
        "OIDC_SIGNING_KEY must hold the ID-token signing key when DEBUG is off."
    )

INSTALLED_APPS = [
    "basispoort.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "post_office",
    "accounts",
    "schools",
    "launcher",
    "sso",
    "audit",
]

MIDDLEWARE = [
    # First, so that load balancers and the container health check get an answer whatever
    # the Host header or scheme (see basispoort/health.py).
    "basispoort.health.HealthCheckMiddleware",
    # Next, so that it sees every 500 a database outage causes (basispoort/middleware.py).
    "basispoort.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "basispoort.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "basispoort.urls"
WSGI_APPLICATION = "basispoort.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_default_db = VAR_DIR / "thuisportaal.sqlite3"
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{_default_db}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] == str(_default_db):
        VAR_DIR.mkdir(exist_ok=True)
    # IMMEDIATE avoids "database is locked" when two requests write at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Parameters travel apart from the SQL and psycopg prepares a statement the fifth time
        # a connection sends it (Django leaves that off unless told): PostgreSQL then skips
        # parsing and planning the hot pages' queries. Both off for a pooler that cannot keep
        # prepared statements (PgBouncer in transaction mode before 1.21, or without
        # max_prepared_statements).
        _prepared = env.bool("DATABASE_SERVER_SIDE_BINDING", default=True)
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=_prepared, prepare_threshold=5 if _prepared else None
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# ModelBackend, with the user lookup every request makes done in one prepared statement.
AUTHENTICATION_BACKENDS = ["accounts.backends.AccountBackend"]

# Argon2id first: see basispoort/lib/hashers.py for the parameters and why.
PASSWORD_HASHERS = [
    "basispoort.lib.hashers.PortalArgon2Hasher",
    "basispoort.lib.hashers.ChildSecretArgon2Hasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.forms.SimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("Engels"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Uploaded pupil pictures are never served from a public URL: a view checks who asks.
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Development default: each message is printed and kept as a file under var/mail/.
MAILERS = {"default": mailer_from_url(env.str("EMAIL_URL", default="devmail://"), VAR_DIR / "mail")}
# The outbox: every message waits in the database until the mail worker delivers it.
POST_OFFICE = {
    "DEFAULT_PRIORITY": "medium",
    # With the growing pause of accounts/outbox.py: about two days of tries before "failed".
    "MAX_RETRIES": env.int("MAIL_MAX_RETRIES", default=50),
    "RETRY_INTERVAL": timedelta(minutes=1),
    "LOG_LEVEL": 2,
    # One message per batch: see accounts/outbox.py (a stopped worker re-sends at most one).
    "BATCH_SIZE": 1,
    "MESSAGE_ID_ENABLED": True,
    "MESSAGE_ID_FQDN": urlsplit(SITE_URL).hostname or "localhost",
}
INVITATION_LINK_LIFETIME = timedelta(days=env.int("INVITATION_LINK_DAYS", default=7))
RESET_LINK_LIFETIME = timedelta(minutes=env.int("RESET_LINK_MINUTES", default=60))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Thuisportaal <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security -----------------------------------------------------------------------------
_https = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_https)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_https)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=_https)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Sessions stay in the database (shared by every server); see basispoort/sessions.py.
SESSION_ENGINE = "basispoort.sessions"
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
# The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and path /.
SESSION_COOKIE_NAME = "__Host-sessionid" if _https else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if _https else "csrftoken"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=4 * 60 * 60)
# The language switch's cookie: Django's defaults would send it without Secure or SameSite.
LANGUAGE_COOKIE_NAME = "__Host-language" if _https else "django_language"
LANGUAGE_COOKIE_SECURE = _https
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LOGIN_URL = "home"
LOGIN_REDIRECT_URL = "children"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The mail worker reports what it sent; post_office's own round-by-round notes are noise.
        "post_office": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # Authlib logs issued tokens in clear at DEBUG; tokens are kept only as digests.
        "authlib": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
