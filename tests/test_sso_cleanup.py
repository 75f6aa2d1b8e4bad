"""Spent codes and expired tokens are deleted a day later, not before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from launcher.models import Product, Publisher
from sso.management.commands.clear_sso import clear_sso
from sso.models import AccessToken, AuthorizationCode, Client

pytestmark = pytest.mark.django_db


def test_it_deletes_codes_and_tokens_a_day_after_use(cast):
    publisher = Publisher.objects.create(name="Uitgeverij Klimop")
    client = Client.objects.create(
        publisher=publisher,
        name="Rekenrups",
        redirect_uris="https://rekenrups.example.org/callback",
        initiate_login_uri="https://rekenrups.example.org/login",
    )
    product = Product.objects.create(
        publisher=publisher, name="Rekenrups", launch_url="https://rekenrups.example.org/"
    )
    now = timezone.now()

    def code_and_token(age: timedelta, name: str):
        code = AuthorizationCode.objects.create(
            digest=name.ljust(64, "0"),
            client=client,
            pupil=cast.emma,
            product=product,
            redirect_uri="https://rekenrups.example.org/callback",
            scope="openid",
            code_challenge="x" * 43,
            code_challenge_method="S256",
            created_at=now - age,
            used_at=now - age,
        )
        AccessToken.objects.create(
            digest=name.ljust(64, "1"),
            client=client,
            pupil=cast.emma,
            authorization_code=code,
            scope="openid",
            issued_at=now - age,
            expires_at=now - age + timedelta(minutes=5),
        )

    code_and_token(timedelta(hours=2), "recent")
    code_and_token(timedelta(days=2), "old")
    assert clear_sso(now) == (1, 1)
    assert list(AuthorizationCode.objects.values_list("digest", flat=True)) == [
        "recent".ljust(64, "0")
    ]
    assert AccessToken.objects.count() == 1
