"""Delete authorization codes and access tokens that can no longer be used."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from sso.models import AccessToken, AuthorizationCode, LaunchTicket

# A spent code is kept this long to recognise (and punish) a second use of it.
KEEP = timedelta(days=1)


def clear_sso(now=None) -> tuple[int, int]:
    cutoff = (now or timezone.now()) - KEEP
    tokens, _ = AccessToken.objects.filter(expires_at__lt=cutoff).delete()
    codes, _ = AuthorizationCode.objects.filter(created_at__lt=cutoff).delete()
    LaunchTicket.objects.filter(expires_at__lt=cutoff).delete()
    return codes, tokens


class Command(BaseCommand):
    help = "Deletes sign-on codes and tokens older than a day (run daily, e.g. from cron)."

    def handle(self, *args, **options):
        codes, tokens = clear_sso()
        self.stdout.write(f"{codes} codes en {tokens} tokens verwijderd.")
