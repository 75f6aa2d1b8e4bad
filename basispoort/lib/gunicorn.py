"""gunicorn's access log, without the secret part of set-password links."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

_SECRET_PATH = re.compile(r"(/wachtwoord/)[^/\s?]+")


def mask(text: str) -> str:
    return _SECRET_PATH.sub(r"\1…", text)


class MaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # The request line, the path and the Referer header can all hold the link.
        return {
            key: mask(value) if isinstance(value, str) else value for key, value in atoms.items()
        }
