"""Helpers for reading settings from the environment."""

from __future__ import annotations

from pathlib import Path

import environ

_SMTP_OPTIONS = {
    "EMAIL_HOST": "host",
    "EMAIL_PORT": "port",
    "EMAIL_HOST_USER": "username",
    "EMAIL_HOST_PASSWORD": "password",
    "EMAIL_USE_TLS": "use_tls",
    "EMAIL_USE_SSL": "use_ssl",
}


def mailer_from_url(url: str, default_file_path: Path) -> dict:
    """A MAILERS entry from an EMAIL_URL such as ``smtp+tls://user:pass@host:587``.

    ``filemail:///var/lib/thuisportaal/mail`` writes each message to a file in that folder;
    ``filemail://`` alone uses ``default_file_path``. ``devmail://`` (the development default)
    also prints each message on the console.
    """
    if url.startswith("devmail:"):
        return {
            "BACKEND": "basispoort.lib.mail.DevelopmentEmailBackend",
            "OPTIONS": {"file_path": str(default_file_path)},
        }
    config = environ.Env.email_url_config(url)
    backend = config["EMAIL_BACKEND"]
    if backend.endswith("smtp.EmailBackend"):
        options = {
            option: config[key]
            for key, option in _SMTP_OPTIONS.items()
            if config.get(key) not in (None, "")
        }
        options["timeout"] = 10
    elif backend.endswith("filebased.EmailBackend"):
        path = config["EMAIL_FILE_PATH"]
        options = {"file_path": str(Path("/", path) if path else default_file_path)}
    else:
        options = {}
    return {"BACKEND": backend, "OPTIONS": options}
