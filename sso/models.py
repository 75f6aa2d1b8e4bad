"""Publishers' OpenID Connect clients and what the portal issues to them.

The signed-in party is a pupil, not a portal account: codes and tokens belong to a pupil.
Secrets, codes and tokens are kept only as SHA-256 digests (they are long random values, so a
fast hash suffices); a stolen database cannot be replayed against a publisher.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

from launcher.models import Publisher
from schools.models import Pupil

CODE_LIFETIME = timedelta(seconds=60)
ACCESS_TOKEN_LIFETIME = timedelta(minutes=5)
PREVIOUS_SECRET_GRACE = timedelta(days=7)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def check_web_address(value: str) -> None:
    """https, or http on this machine's loopback address (for development)."""
    try:
        # Both raise ValueError: urlsplit for a host such as "[::1", .port for a port no
        # server can have.
        parts = urlsplit(value)
        _port = parts.port
    except ValueError:
        parts = None
    secure = parts is not None and (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
    )
    # A space or control character is never part of an address (two on one line, say), and
    # urlsplit quietly drops tabs and line breaks.
    readable = value.isprintable() and " " not in value
    if not (secure and readable) or not parts.hostname or parts.fragment or parts.username:
        raise ValidationError(
            _("%(address)s is geen geldig https-adres (zonder #-deel)."),
            code="insecure_address",
            params={"address": value},
        )


def _new_client_id() -> str:
    return "tp-" + secrets.token_urlsafe(18)


def _new_sub() -> str:
    return secrets.token_urlsafe(24)


class Scope(models.TextChoices):
    """What a publisher may ask for, beyond the pseudonymous `sub` of the scope openid."""

    PROFILE = "profile", _("voornaam")
    SCHOOL = "school", _("groep, jaargroep, BRIN en rol op school")
    ECK_ID = "eckid", _("ECK iD (alleen als de leerling er een heeft)")


class Client(models.Model):
    """A publisher's application that signs pupils in through the portal."""

    code = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    publisher = models.ForeignKey(
        Publisher, on_delete=models.PROTECT, related_name="clients", verbose_name=_("uitgever")
    )
    name = models.CharField(_("naam"), max_length=200)
    client_id = models.CharField(
        _("client-id"), max_length=64, unique=True, default=_new_client_id, editable=False
    )
    secret_digest = models.CharField(max_length=64, editable=False)
    previous_secret_digest = models.CharField(max_length=64, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    redirect_uris = models.TextField(
        _("redirect-URI's"),
        help_text=_("Eén per regel; een aanvraag moet er precies één van gebruiken."),
    )
    initiate_login_uri = models.URLField(
        _("URI om inloggen te starten"),
        max_length=500,
        validators=[check_web_address],
        help_text=_("Hierheen stuurt het portaal een leerling die het product opent."),
    )
    scopes = models.CharField(
        _("gegevens"),
        max_length=100,
        blank=True,
        help_text=_("Wat de uitgever naast een schuilnaam mag ontvangen."),
    )
    is_active = models.BooleanField(_("actief"), default=True)
    created_at = models.DateTimeField(_("aangemaakt op"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("koppeling van een uitgever")
        verbose_name_plural = _("koppelingen van uitgevers")
        ordering = ["publisher__name", "name"]

    def __str__(self):
        return f"{self.publisher} – {self.name}"

    # --- what admin edits ------------------------------------------------------------------

    @property
    def redirect_uri_list(self) -> list[str]:
        return [line.strip() for line in self.redirect_uris.splitlines() if line.strip()]

    @property
    def scope_list(self) -> list[str]:
        return [scope for scope in self.scopes.split() if scope in Scope.values]

    def clean(self):
        uris = self.redirect_uri_list
        if not uris:
            raise ValidationError({"redirect_uris": _("Vul minstens één redirect-URI in.")})
        errors = []
        for uri in uris:
            try:
                check_web_address(uri)
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError({"redirect_uris": errors})
        self.redirect_uris = "\n".join(uris)

    def new_secret(self) -> str:
        """Give the client a new secret and return it; the old one works for a week more."""
        secret = secrets.token_urlsafe(32)
        if self.secret_digest:
            self.previous_secret_digest = self.secret_digest
            self.previous_secret_until = timezone.now() + PREVIOUS_SECRET_GRACE
        self.secret_digest = digest(secret)
        return secret

    # --- what Authlib asks -----------------------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # a request must name its redirect URI

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", *self.scope_list}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uri_list  # exactly, character for character

    def check_client_secret(self, client_secret: str) -> bool:
        offered = digest(client_secret or "")
        if constant_time_compare(offered, self.secret_digest):
            return True
        still_valid = self.previous_secret_until and self.previous_secret_until > timezone.now()
        return bool(still_valid) and constant_time_compare(offered, self.previous_secret_digest)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class Pseudonym(models.Model):
    """The `sub` a publisher knows a pupil by: random, per publisher, kept for good."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="pseudonyms")
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="+")
    sub = models.CharField(max_length=64, unique=True, default=_new_sub)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pupil", "publisher"], name="one_sub_per_publisher")
        ]

    def __str__(self):
        return f"{self.publisher_id} · {self.sub}"

    @classmethod
    def of(cls, pupil: Pupil, publisher: Publisher) -> str:
        pseudonym, _created = cls.objects.get_or_create(pupil=pupil, publisher=publisher)
        return pseudonym.sub


class AuthorizationCode(models.Model):
    """A code handed to a client's redirect URI; used once, within CODE_LIFETIME."""

    digest = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("launcher.Product", on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.CharField(max_length=500)
    scope = models.CharField(max_length=200)
    nonce = models.CharField(max_length=200, blank=True)
    code_challenge = models.CharField(max_length=128)
    code_challenge_method = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)
    #: Set when someone tried the code a second time: its tokens are void from then on.
    reused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["client", "nonce"], name="code_nonce")]
        constraints = [
            models.CheckConstraint(
                condition=Q(code_challenge_method="S256"), name="code_pkce_s256_only"
            )
        ]

    def __str__(self):
        return f"{self.client_id} · {self.created_at:%Y-%m-%d %H:%M:%S}"

    # --- what Authlib asks -----------------------------------------------------------------

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce or None

    def get_auth_time(self) -> int:
        return int(self.created_at.timestamp())

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class AccessToken(models.Model):
    """A bearer token for the user-info endpoint; short-lived, no refresh tokens."""

    digest = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    authorization_code = models.ForeignKey(
        AuthorizationCode, on_delete=models.CASCADE, related_name="access_tokens"
    )
    scope = models.CharField(max_length=200)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.client_id} · {self.issued_at:%Y-%m-%d %H:%M:%S}"

    # --- what Authlib asks -----------------------------------------------------------------

    def check_client(self, client) -> bool:
        return self.client_id == client.pk

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class LaunchTicket(models.Model):
    """What a launch leaves behind: one authorization, for one client, for a short time.

    The browser session holds only the ticket's random code; the ticket is spent in the
    database with a conditional update, so two requests at once cannot both use it.
    """

    code = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("launcher.Product", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    spent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.client_id} · {self.expires_at:%Y-%m-%d %H:%M:%S}"
