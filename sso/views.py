"""Discovery, keys, and the authorization, token and user-info endpoints."""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oidc.core.errors import LoginRequiredError
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

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
            "authorization_response_iss_parameter_supported": True,
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
    return SignedInPupil(ticket.pupil, ticket.product.client, ticket.product)


def _with_issuer(response):
    """RFC 9207: every answer to the client's redirect URI names the issuer (no mix-up)."""
    if response.status_code == 302:
        response["Location"] = add_params_to_uri(response["Location"], {"iss": settings.SITE_URL})
    return response


@never_cache
@require_safe
def authorize(request):
    """No consent screen: the school's licence is the consent. Without a launch, no code.

    GET only: the session cookie is SameSite=Lax, so a cross-site POST would arrive without it.
    """
    client_id = request.GET.get("client_id", "")
    had_ticket = launch.has_ticket(request)
    signed_in = _signed_in(request, client_id)
    try:
        grant = server.get_consent_grant(request, end_user=signed_in)
    except OAuth2Error as error:
        if error.redirect_uri:  # a known client and redirect URI: tell the client
            return _with_issuer(server.handle_error_response(request, error))
        return render(request, "sso/error.html", {"error": error.error}, status=400)
    if signed_in is None and not had_ticket:
        state = grant.request.payload.state
        error = LoginRequiredError(redirect_uri=grant.redirect_uri, state=state)
        return _with_issuer(server.handle_error_response(request, error))
    if signed_in is not None and not may_open(signed_in.pupil, signed_in.product):
        signed_in = None  # licence ended, home login off: access_denied
    response = server.create_authorization_response(request, grant_user=signed_in, grant=grant)
    return _with_issuer(response)


@csrf_exempt  # client authentication, no cookies
@require_POST
def token(request):
    try:
        return server.create_token_response(request)
    except OAuth2Error as error:  # raised before Authlib's own handling: plain HTTP
        return server.handle_error_response(request, error)


@csrf_exempt  # a bearer token, no cookies: nothing to forge
@never_cache
@require_http_methods(["GET", "POST"])
@require_token("openid")
def userinfo(request):
    token = request.oauth_token
    code = token.authorization_code
    if not token.client.is_active or not may_open(token.pupil, code.product):
        return JsonResponse({"error": "invalid_token"}, status=401)
    return JsonResponse(claims.for_pupil(token.pupil, token.client, token.scope))
