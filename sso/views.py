"""Discovery, keys, and the authorization, token and user-info endpoints."""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from authlib.oidc.core.errors import LoginRequiredError
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from launcher.models import Product
from schools.models import Pupil
from sso import claims, keys, launch
from sso.server import SignedInPupil, may_open, require_token, server


def _url(name: str) -> str:
    return settings.SITE_URL + reverse(name)


@require_safe
@cache_control(public=True, max_age=3600)
def discovery(request):
    return JsonResponse(
        {
            "issuer": settings.SITE_URL,
            "authorization_endpoint": _url("oidc-authorize"),
            "token_endpoint": _url("oidc-token"),
            "userinfo_endpoint": _url("oidc-userinfo"),
            "jwks_uri": _url("oidc-jwks"),
            "scopes_supported": claims.SCOPES_SUPPORTED,
            "claims_supported": claims.CLAIMS_SUPPORTED,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
        }
    )


@require_safe
@cache_control(public=True, max_age=300)
def jwks(request):
    return JsonResponse(keys.public_jwks())


def _signed_in(request, client_id: str) -> SignedInPupil | None:
    """The pupil whose launch of this client's product is waiting in this browser."""
    ticket = launch.take_ticket(request, client_id)
    if ticket is None:
        return None
    pupil = Pupil.objects.select_related("school", "group").filter(code=ticket.pupil_code).first()
    product = (
        Product.objects.select_related("client__publisher")
        .filter(code=ticket.product_code, client__client_id=client_id)
        .first()
    )
    if pupil is None or product is None:
        return None
    return SignedInPupil(pupil, product.client, product)


@csrf_exempt  # a publisher may post the request; what it can get is a code for itself
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def authorize(request):
    """No consent screen: the school's licence is the consent. Without a launch, no code."""
    client_id = request.POST.get("client_id") or request.GET.get("client_id", "")
    has_ticket = launch.TICKET_KEY in request.session
    signed_in = _signed_in(request, client_id)
    try:
        grant = server.get_consent_grant(request, end_user=signed_in)
    except OAuth2Error as error:
        if error.redirect_uri:  # a known client and redirect URI: tell the client
            return server.handle_error_response(request, error)
        return render(request, "sso/error.html", {"error": error.error}, status=400)
    if signed_in is None and not has_ticket:
        error = LoginRequiredError(
            redirect_uri=grant.redirect_uri, state=grant.request.payload.state
        )
        return server.handle_error_response(request, error)
    if signed_in is not None and not may_open(signed_in.pupil, signed_in.product):
        signed_in = None  # licence ended, home login off: access_denied
    return server.create_authorization_response(request, grant_user=signed_in, grant=grant)


@csrf_exempt
@require_POST
def token(request):
    return server.create_token_response(request)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
@require_token("openid")
def userinfo(request):
    token = request.oauth_token
    return JsonResponse(claims.for_pupil(token.pupil, token.client, token.scope))
