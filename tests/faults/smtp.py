"""A small SMTP server on loopback that keeps every message it accepts.

Enough of RFC 5321 for Django's SMTP backend (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT, no TLS, no login). A message counts as delivered when the server has answered its
DATA with 250: before that the sender cannot know it arrived, and a real server would not
pass it on. ``stall_first`` makes the server read the first message and then never answer,
as a mail server that hangs would.
"""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy


@dataclass
class Received:
    message_id: str
    recipients: list[str]
    subject: str
    raw: bytes


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def handle(self):
        server: MailServer = self.server.mail  # type: ignore[attr-defined]
        self.reply("220 127.0.0.1 ESMTP")
        recipients: list[str] = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].decode("ascii", errors="replace").upper()
            if verb == "EHLO":
                self.reply("250-127.0.0.1")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 127.0.0.1")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = line.decode("utf-8", errors="replace").split(":", 1)[1]
                recipients.append(address.strip().split(" ")[0].strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                raw = self._read_data()
                if raw is None:
                    return
                if not server.answer(raw, recipients):
                    return  # stalled until the server stops: no answer, ever
                self.reply("250 OK queued")
                recipients = []
            elif verb == "RSET":
                recipients = []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _read_data(self) -> bytes | None:
        lines = []
        while True:
            line = self.rfile.readline()
            if not line:
                return None
            if line in (b".\r\n", b".\n"):
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class MailServer:
    def __init__(self, port: int, stall_first: bool = False):
        self.port = port
        self.stall_first = stall_first
        self.accepted: list[Received] = []
        self.unanswered: list[Received] = []  # read, never acknowledged
        self.stalled = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def answer(self, raw: bytes, recipients: list[str]) -> bool:
        """Keep the message; False when it is the one to stall on."""
        message = message_from_bytes(raw, policy=default_policy)
        received = Received(
            str(message.get("Message-ID", "")).strip(),
            list(recipients),
            str(message.get("Subject", "")),
            raw,
        )
        with self._lock:
            stall = self.stall_first and not self.stalled.is_set()
            if stall:
                self.unanswered.append(received)
                self.stalled.set()
            else:
                self.accepted.append(received)
        if stall:
            self._release.wait()
            return False
        return True

    def start(self) -> MailServer:
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.mail = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.accepted)
