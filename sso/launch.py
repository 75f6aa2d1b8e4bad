"""The hand-off from the portal to a publisher (OpenID Connect third-party-initiated login).

Opening a product ends the child's session but leaves one ticket: this pupil, this product,
this client, for LAUNCH_TICKET_LIFETIME. The client's initiate-login URL sends the browser
back to the authorization endpoint, which spends the ticket on that one client. The session
can start nothing else, and a parent who logs in again starts without a ticket.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

from launcher.models import Product
from schools.models import Pupil
from sso.models import LaunchTicket

TICKET_KEY = "sso_ticket"
LAUNCH_TICKET_LIFETIME = timedelta(minutes=2)


def initiate_login_url(product: Product) -> str:
    """Where the browser goes to let the publisher start its login at the portal."""
    parts = urlsplit(product.client.initiate_login_uri)
    query = urlencode({"iss": settings.SITE_URL, "target_link_uri": product.launch_url})
    query = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit(parts._replace(query=query))


def leave_ticket(request, pupil: Pupil, product: Product) -> None:
    """Call after the child's session has been flushed: the ticket is all that is left."""
    ticket = LaunchTicket.objects.create(
        pupil=pupil,
        product=product,
        client=product.client,
        expires_at=timezone.now() + LAUNCH_TICKET_LIFETIME,
    )
    request.session[TICKET_KEY] = str(ticket.code)


def has_ticket(request) -> bool:
    return TICKET_KEY in request.session


def take_ticket(request, client_id: str) -> LaunchTicket | None:
    """The ticket for this client, spent by taking it; a ticket for another client stays."""
    code = request.session.get(TICKET_KEY)
    if not code or "\x00" in (client_id or ""):  # no client's id; PostgreSQL refuses NUL
        return None
    now = timezone.now()
    spent = LaunchTicket.objects.filter(
        code=code, client__client_id=client_id, spent_at__isnull=True, expires_at__gt=now
    ).update(spent_at=now)
    if not spent:
        return None
    request.session.pop(TICKET_KEY, None)
    return (
        LaunchTicket.objects.select_related("pupil__school", "pupil__group", "product__client")
        .filter(code=code)
        .first()
    )


def drop_ticket(request) -> None:
    request.session.pop(TICKET_KEY, None)


@receiver(user_logged_in)
def _no_ticket_after_a_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        drop_ticket(request)
