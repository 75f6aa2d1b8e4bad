"""The hand-off from the portal to a publisher (OpenID Connect third-party-initiated login).

Opening a product ends the child's session but leaves one ticket in it: this pupil, this
product, this client, for LAUNCH_TICKET_LIFETIME. The client's initiate-login URL sends the
browser back to the authorization endpoint, which spends the ticket on that one client. The
session can start nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.utils import timezone

from launcher.models import Product
from schools.models import Pupil

TICKET_KEY = "sso_ticket"
LAUNCH_TICKET_LIFETIME = timedelta(minutes=2)


@dataclass(frozen=True)
class Ticket:
    pupil_code: str
    product_code: str
    client_id: str


def initiate_login_url(product: Product) -> str:
    """Where the browser goes to let the publisher start its login at the portal."""
    parts = urlsplit(product.client.initiate_login_uri)
    query = urlencode({"iss": settings.SITE_URL, "target_link_uri": product.launch_url})
    query = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit(parts._replace(query=query))


def leave_ticket(request, pupil: Pupil, product: Product) -> None:
    """Call after the child's session has been flushed: the ticket is all that is left."""
    expires = (timezone.now() + LAUNCH_TICKET_LIFETIME).timestamp()
    request.session[TICKET_KEY] = [
        str(pupil.code),
        str(product.code),
        product.client.client_id,
        expires,
    ]


def take_ticket(request, client_id: str) -> Ticket | None:
    """The ticket for this client, spent by taking it; a ticket for another client stays."""
    stored = request.session.get(TICKET_KEY)
    if not stored:
        return None
    pupil_code, product_code, ticket_client, expires = stored
    if expires < timezone.now().timestamp():
        del request.session[TICKET_KEY]
        return None
    if ticket_client != client_id:
        return None
    del request.session[TICKET_KEY]
    return Ticket(pupil_code, product_code, ticket_client)
