"""Delivering the outbox: post_office sends, this adds a growing pause between retries."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from post_office import mail
from post_office.models import STATUS, Email

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


#: At most this many messages per round, so that a long queue never holds up the round's
#: other work (forgotten-password requests).
MOST_PER_ROUND = 100


def deliver() -> tuple[int, int, int]:
    """Send what is due, one message at a time; returns (sent, failed for good, retried).

    post_office records "sent" once per batch, and settings.POST_OFFICE["BATCH_SIZE"] is 1:
    a worker stopped halfway (a deploy, a crash) then sends again at most the one message it
    was busy with, never a batch the mail server had already accepted.
    """
    started = timezone.now()
    sent = failed = requeued = 0
    for _ in range(MOST_PER_ROUND):
        one_sent, one_failed, one_requeued = mail.send_queued(processes=1)
        sent, failed, requeued = sent + one_sent, failed + one_failed, requeued + one_requeued
        if one_requeued or not (one_sent or one_failed):
            break  # the mail server is away (the rest wait their turn), or nothing is due
    if requeued:
        back_off(started)
    if sent:
        forget_links(started)
    return sent, failed, requeued


_LINK = re.compile(r"(/wachtwoord/)[A-Za-z0-9_-]+/")


def forget_links(since) -> None:
    """Once delivered, a message's set-password link is of no use in the outbox table.

    Operators read the outbox in the admin and it ends up in backups; a link that still
    works must not be readable there.
    """
    delivered = Email.objects.filter(
        status=STATUS.sent, last_updated__gte=since, message__contains="/wachtwoord/"
    )
    for email in delivered:
        Email.objects.filter(pk=email.pk).update(
            message=_LINK.sub(r"\1…/", email.message),
            html_message=_LINK.sub(r"\1…/", email.html_message),
        )


def back_off(since) -> None:
    """post_office retries at a fixed interval; wait longer after every failed try instead.

    A mail server that is down for hours then gets a handful of tries, not hundreds, and
    the messages stay queued until it answers again (see POST_OFFICE["MAX_RETRIES"]).
    """
    now = timezone.now()
    # Only the messages that failed in this round; waiting ones keep their turn.
    failed_now = Email.objects.filter(
        status=STATUS.requeued, number_of_retries__gt=0, last_updated__gte=since
    )
    for email in failed_now:
        pause = min(LONGEST_RETRY, FIRST_RETRY * 2 ** (email.number_of_retries - 1))
        Email.objects.filter(pk=email.pk).update(scheduled_time=now + pause)
