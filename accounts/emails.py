"""The portal's e-mails: rendered from templates/emails/ and queued in the outbox.

Nothing here talks to a mail server: post_office keeps each message in the database and
the mail worker (``manage.py mail_worker``) delivers it, retrying while the server is down.
Links are built from SITE_URL, never from a request's Host header.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from post_office import mail
from post_office.models import PRIORITY, Email

# Ask auto-responders (out of office, "mailbox full") not to answer a no-reply address.
HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def absolute_url(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def queue(name: str, to: str, context: dict, *, urgent: bool = False) -> Email:
    """Render ``emails/<name>-subject.txt``, ``-body.txt`` and ``-body.html`` and queue them."""
    context = {
        "site_url": settings.SITE_URL,
        "home_url": absolute_url("home"),
        "admin_url": absolute_url("admin:index"),
        **context,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
        text = render_to_string(f"emails/{name}-body.txt", context)
        html = render_to_string(f"emails/{name}-body.html", context)
    return mail.send(
        [to],
        settings.DEFAULT_FROM_EMAIL,
        subject=subject,
        message=text,
        html_message=html,
        headers=HEADERS,
        priority=PRIORITY.high if urgent else PRIORITY.medium,
    )
