"""Development e-mail: every message printed on the console and kept as a file."""

from __future__ import annotations

import sys

from django.core.mail.backends.filebased import EmailBackend as FileBackend


class DevelopmentEmailBackend(FileBackend):
    """Writes each message to a file under var/mail/ and prints it, so links can be clicked."""

    def send_messages(self, email_messages):
        count = super().send_messages(email_messages)
        for message in email_messages:
            sys.stdout.write(
                f"\n--- e-mail aan {', '.join(message.to)}: {message.subject}\n"
                f"{message.body}\n--- bewaard in {self.file_path}\n"
            )
        sys.stdout.flush()
        return count
