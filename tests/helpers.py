"""Helpers shared by the tests: the admin (URLs, change forms, actions), e-mail and parents."""

from __future__ import annotations

import io
import re
import socket
from urllib.parse import urlsplit

from django import forms
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.management import call_command
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from basispoort.lib.hashers import CHILD_SECRET_ALGORITHM

PUPIL_CHANGELIST = reverse("admin:schools_pupil_changelist")


def change_url(obj: Model) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def delete_url(obj: Model) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_delete", args=[obj.pk])


def fresh(obj: Model) -> Model:
    """The object as the database has it now."""
    return type(obj)._default_manager.get(pk=obj.pk)


def html(response) -> str:
    return response.content.decode()


def form_data(response) -> dict:
    """POST data that re-submits the change form on ``response`` unchanged.

    Built from the form's current values, so it holds the extra fields as well
    (parent_email_1/2, new_pin, picture_1..3); read-only and disabled fields are left out,
    and no file is sent, so a photo stays.
    """
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.disabled or isinstance(field, forms.FileField) or value in (None, False):
            continue
        data[name] = "on" if value is True else value
    return data


def post_change(client, obj: Model, **changes):
    """Open the object's change form and save it with ``changes``; ``None`` clears a field."""
    page = client.get(change_url(obj))
    assert page.status_code == 200
    data = form_data(page)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(change_url(obj), data)


def saved(response) -> bool:
    """Whether a change or add form was saved (a redirect) rather than shown again."""
    if response.status_code == 200 and "adminform" in response.context:
        return False
    assert response.status_code == 302, response.status_code
    return True


def errors(response) -> dict[str, list[str]]:
    """The field errors of the form shown again on ``response``."""
    assert response.status_code == 200
    return {
        name: list(messages) for name, messages in response.context["adminform"].form.errors.items()
    }


def run_action(client, action: str, objs, url: str = PUPIL_CHANGELIST):
    return client.post(
        url, {"action": action, "index": 0, "_selected_action": [obj.pk for obj in objs]}
    )


def option_values(page: str, name: str) -> set[str]:
    """The values offered by the ``<select name=...>`` on a page."""
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S)
    assert select, f"no <select name={name!r}> on the page"
    return set(re.findall(r'<option value="([^"]*)"', select.group(0)))


def ids(*objs: Model) -> set[str]:
    """Primary keys as the admin writes them in URLs, forms and JSON (UUID strings)."""
    return {str(obj.pk) for obj in objs}


# --- e-mail: the outbox, links in messages, the mail worker --------------------------------

#: A set-password link as it appears in an e-mail (plain text or HTML).
SET_PASSWORD_LINK = re.compile(r"https?://[^\s\"'<>]+/wachtwoord/[\w-]+/")
LOCMEM_MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def queued_to(address: str) -> list:
    """The post_office messages (queued, sent or failed) to exactly this one address."""
    from post_office.models import Email

    return [email for email in Email.objects.order_by("pk") if email.to == [address]]


def only_message_to(address: str):
    messages = queued_to(address)
    assert len(messages) == 1, [message.subject for message in messages]
    return messages[0]


def link_in(text: str) -> str:
    """The one set-password link in a message body (it may be written there twice)."""
    links = set(SET_PASSWORD_LINK.findall(text))
    assert len(links) == 1, links
    return links.pop()


def path_of(url: str) -> str:
    """The part of a link the test client requests."""
    return urlsplit(url).path


def sent_to(address: str) -> list:
    """Messages that reached the (locmem) mail server for this address."""
    from django.core import mail

    return [message for message in mail.outbox if address in message.to]


def run_mail_worker() -> str:
    """One round of ``manage.py mail_worker``: forgot-password requests, then the outbox."""
    out = io.StringIO()
    call_command("mail_worker", "--once", stdout=out)
    return out.getvalue()


def closed_port() -> int:
    """A local TCP port nothing listens on, so a connection to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unreachable_mailers() -> dict:
    """MAILERS for an SMTP server that is down (see the ``mail_server_down`` fixture)."""
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 2},
        }
    }


# --- parents: setting a password, logging in -----------------------------------------------


def choose_password(client, link: str, password: str, again: str | None = None):
    """Submit the set-password form behind an e-mailed link."""
    return client.post(
        path_of(link),
        {"new_password1": password, "new_password2": password if again is None else again},
    )


#: What an unknown, used or expired link shows (with status 200, so no 4xx log line has it).
LINK_DEAD = "Deze link werkt niet meer"


def open_link(link: str, client=None):
    """GET the page behind a set-password link (a fresh browser unless ``client`` is given)."""
    return (client or Client()).get(path_of(link))


def shows_the_password_form(response) -> bool:
    """Whether a set-password page offers the form (a live link), rather than "dead link"."""
    assert response.status_code == 200, response.status_code
    names = [template.name for template in response.templates]
    if "accounts/set_password.html" in names:
        assert LINK_DEAD not in html(response)
        assert 'name="new_password1"' in html(response)
        return True
    assert "accounts/link_invalid.html" in names, names
    return False


def says_link_is_dead(response) -> bool:
    """The answer to a used, expired or unknown link: the 200 "Deze link werkt niet meer" page."""
    return (
        response.status_code == 200
        and "accounts/link_invalid.html" in [template.name for template in response.templates]
        and LINK_DEAD in html(response)
        and 'name="new_password1"' not in html(response)
    )


def link_works(link: str, client=None) -> bool:
    return shows_the_password_form(open_link(link, client))


def log_in(client, address: str, password: str, *, ip: str | None = None, **data):
    """Log in at the home page the way a parent does; ``data`` adds form fields.

    ``ip`` is the address the request comes from (REMOTE_ADDR, a request header, never a
    form field).
    """
    headers = {"REMOTE_ADDR": ip} if ip else {}
    return client.post("/", {"username": address, "password": password, **data}, **headers)


def form_errors(response) -> list[str]:
    """Every error message of the form on a parent page (``context["form"]``)."""
    form = response.context["form"]
    return [message for messages in form.errors.values() for message in messages]


def parent_status(page: str, address: str) -> tuple[str, str, str]:
    """(last e-mail, password, last login) for ``address`` on a pupil's admin page."""
    row = re.search(
        rf"<tr><td>{re.escape(address)}</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>",
        page,
        re.S,
    )
    assert row, f"no status row for {address}"
    return row.group(1), row.group(2), row.group(3)


class FastChildSecretHasher(MD5PasswordHasher):
    """The suite's stand-in for the Argon2 PIN hasher, under the same algorithm name."""

    algorithm = CHILD_SECRET_ALGORITHM
