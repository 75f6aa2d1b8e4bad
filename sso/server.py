"""The OpenID Connect provider, built on Authlib's authorization server.

Only the authorization-code flow, with PKCE S256 required of every client, exact redirect
URIs, single-use codes valid for 60 seconds (a second use revokes what the first one gave),
RS256 ID tokens, short access tokens for the user-info endpoint, no refresh tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from authlib.integrations.django_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from launcher.models import Product, products_for
from schools.models import Pupil
from sso import claims, keys
from sso.models import (
    ACCESS_TOKEN_LIFETIME,
    CODE_LIFETIME,
    AccessToken,
    AuthorizationCode,
    Client,
    digest,
)

ID_TOKEN_LIFETIME = 300  # seconds: the token is read once, at the hand-off


@dataclass(frozen=True)
class SignedInPupil:
    """Who a code or token is for: the pupil, opening this product through this client."""

    pupil: Pupil
    client: Client
    product: Product

    @property
    def pk(self):
        return self.pupil.pk


def may_open(pupil: Pupil, product: Product) -> bool:
    """The school's licence is the consent: current, in scope, usable at home, login on."""
    refreshed = Pupil.objects.home_login_possible().filter(pk=pupil.pk).first()
    return refreshed is not None and products_for(refreshed).filter(pk=product.pk).exists()


#: What an authorization code is stored with, straight from the request.
STORED_PARAMETERS = ("redirect_uri", "scope", "nonce", "code_challenge")
#: RFC 7636, 4.2; Authlib's own check lets a newline at the end through.
CODE_CHALLENGE = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def refuse_what_cannot_be_stored(request) -> None:
    """A value longer than its column, or with a NUL in it (which PostgreSQL refuses even
    in a query), is refused as a bad request instead of failing in the database."""
    data = request.payload.data
    for name in STORED_PARAMETERS:
        value = data.get(name) or ""
        if len(value) > AuthorizationCode._meta.get_field(name).max_length or "\x00" in value:
            raise InvalidRequestError(f"'{name}' is too long or holds a NUL character.")


class S256Only(CodeChallenge):
    """PKCE on every request, with S256 only ("plain" would reveal the verifier)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        # Authlib runs the checks that follow the request's own in no fixed order (a set):
        # both that may come first, this one and the nonce's, refuse what cannot be stored.
        refuse_what_cannot_be_stored(grant.request)
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send 'code_challenge'.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only 'code_challenge_method=S256' is accepted.")
        if not CODE_CHALLENGE.fullmatch(data["code_challenge"]):
            raise InvalidRequestError("Invalid 'code_challenge'")
        super().validate_code_challenge(grant, redirect_uri)


class PortalOpenIDCode(OpenIDCode):
    def __init__(self):
        super().__init__(require_nonce=True)

    def validate_openid_authorization_request(self, grant, redirect_uri):
        refuse_what_cannot_be_stored(grant.request)  # before the nonce is looked up
        super().validate_openid_authorization_request(grant, redirect_uri)

    def exists_nonce(self, nonce, request):
        return AuthorizationCode.objects.filter(client=request.client, nonce=nonce).exists()

    def resolve_client_private_key(self, client):
        return keys.signing_key()

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": keys.signing_key().kid}

    def get_client_claims(self, client):
        return {"iss": settings.SITE_URL, "aud": client.client_id}

    def get_compatible_claims(self, request):
        result = super().get_compatible_claims(request)
        result["exp"] = result["iat"] + ID_TOKEN_LIFETIME
        return result

    def generate_user_info(self, user: SignedInPupil, scope):
        return claims.for_pupil(user.pupil, user.client, scope)


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    AUTHORIZATION_CODE_LENGTH = 48

    def save_authorization_code(self, code, request):
        data = request.payload.data
        signed_in: SignedInPupil = request.user
        AuthorizationCode.objects.create(
            digest=digest(code),
            client=request.client,
            pupil=signed_in.pupil,
            product=signed_in.product,
            redirect_uri=request.payload.redirect_uri,
            scope=request.payload.scope,
            nonce=data.get("nonce") or "",
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
        )

    def query_authorization_code(self, code, client):
        """The code, spent by this call; a code used before revokes its tokens."""
        now = timezone.now()
        found = (
            AuthorizationCode.objects.filter(digest=digest(code or ""), client=client)
            .select_related("pupil", "product", "client")
            .first()
        )
        if found is None:
            return None
        with transaction.atomic():
            spent = AuthorizationCode.objects.filter(pk=found.pk, used_at__isnull=True).update(
                used_at=now
            )
            if not spent:  # used before: whoever holds it now may have stolen it
                AuthorizationCode.objects.filter(pk=found.pk).update(reused_at=now)
                AccessToken.objects.filter(
                    authorization_code=found, revoked_at__isnull=True
                ).update(revoked_at=now)
                return None
        if found.created_at + CODE_LIFETIME < now:
            return None
        return found

    def delete_authorization_code(self, authorization_code):
        pass  # spent in query_authorization_code; the row stays to recognise a reuse

    def authenticate_user(self, authorization_code: AuthorizationCode):
        if not may_open(authorization_code.pupil, authorization_code.product):
            return None
        return SignedInPupil(
            authorization_code.pupil, authorization_code.client, authorization_code.product
        )


class PortalAuthorizationServer(AuthorizationServer):
    def __init__(self):
        super().__init__(Client, AccessToken)
        lifetime = int(ACCESS_TOKEN_LIFETIME.total_seconds())
        self.load_config(
            {
                "scopes_supported": claims.SCOPES_SUPPORTED,
                "token_expires_in": {"authorization_code": lifetime},
                "refresh_token_generator": False,  # no refresh tokens: a launch is one visit
            }
        )

    def query_client(self, client_id):
        if not client_id or "\x00" in client_id:  # PostgreSQL refuses NUL even in a query
            return None
        return (
            Client.objects.filter(client_id=client_id, is_active=True)
            .select_related("publisher")
            .first()
        )

    def authenticate_client(self, request, methods, endpoint="token"):
        try:
            return super().authenticate_client(request, methods, endpoint)
        except ValueError:
            # Authlib takes an Authorization header apart without checking that it can: only
            # spaces, or a Basic secret that is not UTF-8, raise instead of failing to log in.
            raise InvalidClientError(
                status_code=401, description="The client could not be authenticated."
            ) from None

    def get_consent_grant(self, request=None, end_user=None):
        try:
            return super().get_consent_grant(request, end_user=end_user)
        except ValueError:
            # Authlib quotes some parameters in its error texts (an unknown response type or
            # redirect URI) and refuses to build a text with characters an error text may not
            # hold (RFC 6749, 5.2): a ValueError, so a server error. Refuse the request.
            raise InvalidRequestError("A parameter holds characters it may not.") from None

    def save_token(self, token, request):
        signed_in: SignedInPupil = request.user
        now = timezone.now()
        return AccessToken.objects.create(
            digest=digest(token["access_token"]),
            client=request.client,
            pupil=signed_in.pupil,
            authorization_code=request.authorization_code,
            scope=token.get("scope", ""),
            issued_at=now,
            expires_at=now + ACCESS_TOKEN_LIFETIME,
        )


class PortalBearerTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        # A token whose code was presented twice is void, also when the second try came
        # in while the first exchange was still running.
        return (
            AccessToken.objects.filter(
                digest=digest(token_string or ""), authorization_code__reused_at__isnull=True
            )
            .select_related(
                "client__publisher", "pupil__school", "pupil__group", "authorization_code__product"
            )
            .first()
        )


server = PortalAuthorizationServer()
server.register_grant(CodeGrant, [S256Only(required=True), PortalOpenIDCode()])
require_token = ResourceProtector()
require_token.register_token_validator(PortalBearerTokenValidator())
