"""Helpers shared by the admin tests: URLs, re-submitting a change form, running actions."""

from __future__ import annotations

import re

from django import forms
from django.db.models import Model
from django.urls import reverse

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
