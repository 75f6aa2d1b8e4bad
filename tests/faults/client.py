"""A small browser for the fault tests: cookies, CSRF tokens, no redirects followed.

With DEBUG off the portal's cookies are ``__Host-`` and Secure. Browsers treat
http://127.0.0.1 as a secure context and send them; Python's cookie jar does not, so this
client keeps cookies by name itself. Like a browser, it sends the same cookies to every port
of 127.0.0.1: two servers behind one address see one visitor.
"""

from __future__ import annotations

import http.client
import re
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_COOKIE = "__Host-csrftoken"
SESSION_COOKIE = "__Host-sessionid"
TILE = re.compile(
    r'<a class="tile" href="(/kind/[0-9a-f-]+/)">.*?<span class="tile-name">([^<]+)<', re.S
)
PRODUCT = re.compile(
    r'action="(/software/[0-9a-f-]+/openen/)".*?<span class="tile-name">([^<]+)<', re.S
)


@dataclass
class Response:
    method: str
    path: str
    status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    headers: dict[str, str]
    text: str
    started: float  # time.monotonic()
    finished: float
    error: str = ""

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


@dataclass
class Browser:
    port: int
    timeout: float = 15
    cookies: dict[str, str] = field(default_factory=dict)
    last: Response | None = None  # the latest answer, also of the steps below

    def request(
        self, method: str, path: str, data: dict | None = None, port: int | None = None
    ) -> Response:
        port = port or self.port
        headers = {"Host": f"127.0.0.1:{port}", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "POST":
            form = dict(data or {})
            form.setdefault("csrfmiddlewaretoken", self.cookies.get(CSRF_COOKIE, ""))
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{port}"
        self.last = self._send(method, path, port, headers, body)
        return self.last

    def _send(self, method, path, port, headers, body) -> Response:
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            text = answer.read().decode("utf-8", errors="replace")
            for value in answer.headers.get_all("Set-Cookie") or []:
                self._keep(value)
            return Response(
                method,
                path,
                answer.status,
                {key.lower(): value for key, value in answer.getheaders()},
                text,
                started,
                time.monotonic(),
            )
        except (OSError, http.client.HTTPException) as error:
            return Response(
                method, path, 0, {}, "", started, time.monotonic(), f"{type(error).__name__}"
            )
        finally:
            connection.close()

    def _keep(self, header: str) -> None:
        for name, morsel in SimpleCookie(header).items():
            expired = morsel["max-age"] == "0" or "1970" in morsel["expires"]
            if expired or not morsel.value or morsel.value == '""':
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path: str, port: int | None = None) -> Response:
        return self.request("GET", path, port=port)

    def post(self, path: str, data: dict | None = None, port: int | None = None) -> Response:
        return self.request("POST", path, data, port=port)

    # --- Steps of the home flow ---------------------------------------------------------

    def log_in(self, email: str, password: str, port: int | None = None) -> Response:
        """The login page, then the form; a correct password answers 302 to /kinderen/."""
        self.get("/", port=port)
        return self.post("/", {"username": email, "password": password}, port=port)

    def tile(self, name: str, port: int | None = None) -> str | None:
        """The PIN pad's path for the child called ``name`` on the tile page."""
        page = self.get("/kinderen/", port=port)
        for path, shown in TILE.findall(page.text):
            if shown.strip() == name:
                return path
        return None

    def enter_pin(self, pad: str, pin: str, port: int | None = None) -> Response:
        """All four digits at once: the pad checks them and redirects."""
        return self.post(pad, {"entered": pin, "key": ""}, port=port)

    @staticmethod
    def launch_path(page: Response, product: str) -> str | None:
        """Where the software page posts to open ``product``."""
        for path, shown in PRODUCT.findall(page.text):
            if shown.strip() == product:
                return path
        return None
