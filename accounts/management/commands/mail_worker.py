"""Run the outbox: handle "forgot password" requests and send queued e-mail, until stopped."""

from __future__ import annotations

import logging
import signal
import time
from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from accounts import throttle
from accounts.invitations import handle_password_requests
from accounts.outbox import deliver

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Handles forgotten-password requests and sends queued e-mail every few seconds, "
        "retrying with a growing pause while the mail server is unreachable. Run one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one round, then stop.")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between rounds (default 5)."
        )

    def handle(self, *args, once=False, interval=5.0, **options):
        self.running = True
        signal.signal(signal.SIGTERM, self._stop)
        while self.running:
            try:
                self.run_round()
            except DatabaseError:
                if once:
                    raise
                # The database restarting must not end the worker; try again next round.
                logger.exception("mail worker: round failed, retrying")
            if once:
                break
            time.sleep(interval)
            # A long-running process must not hold on to a broken or stale connection.
            close_old_connections()

    def run_round(self):
        throttle.forget_old()
        # Expired sessions hold an account id: gone within seconds, not kept for ever.
        import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
        links = handle_password_requests()
        sent, failed, requeued = deliver()
        if links or sent or failed or requeued:
            self.stdout.write(
                f"nieuwe links: {links}, verstuurd: {sent}, mislukt: {failed}, "
                f"later opnieuw: {requeued}"
            )

    def _stop(self, *args):
        self.running = False
