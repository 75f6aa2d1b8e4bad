"""The parents' door: log in at /, log out, forgotten password, set a password by link."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, logout
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import throttle
from accounts.emails import queue
from accounts.forms import ForgotPasswordForm, NewPasswordForm, ParentLoginForm
from accounts.invitations import request_new_password, reset_minutes
from accounts.models import PasswordLink
from launcher import children as child_session

#: Remembers only the address (never the password) when the parent asks for it.
REMEMBER_COOKIE = "remembered_email"
REMEMBER_FOR = 365 * 24 * 60 * 60


def _remember_cookie() -> str:
    # Over HTTPS with the __Host- prefix, like the session cookie: no other host can set it.
    return f"__Host-{REMEMBER_COOKIE}" if settings.SESSION_COOKIE_SECURE else REMEMBER_COOKIE


def _next_url(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def home(request):
    if request.user.is_authenticated:
        return redirect("children")
    if child_session.current(request):
        return redirect("software")
    remembered = request.COOKIES.get(_remember_cookie(), "")
    form = ParentLoginForm(
        request,
        data=request.POST if request.method == "POST" else None,
        initial={"username": remembered, "remember": bool(remembered)},
    )
    if form.is_valid():
        user = form.get_user()
        user.home_login = True  # last_home_login is written with last_login (accounts/apps.py)
        login(request, user)  # also gives the session a new key
        # A URL, never a view name: shortcuts.redirect("kinderen") would look the name up.
        response = HttpResponseRedirect(_next_url(request) or reverse("children"))
        if form.cleaned_data["remember"]:
            response.set_cookie(
                _remember_cookie(),
                form.get_user().email,
                max_age=REMEMBER_FOR,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        else:
            response.delete_cookie(_remember_cookie())
        return response
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)})


@require_POST
def log_out(request):
    logout(request)  # removes the session from the server, not only the cookie
    return redirect("home")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def forgot_password(request):
    form = ForgotPasswordForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        # The same page and the same single write for every address: see invitations.py.
        request_new_password(form.cleaned_data["email"])
        return render(request, "accounts/forgot_sent.html", {"minutes": reset_minutes()})
    return render(request, "accounts/forgot.html", {"form": form})


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def set_password(request, token):
    """GET only shows the form, so a mail scanner that opens the link does not spend it."""
    if request.method != "POST":
        link = PasswordLink.find(token)
        if link is None:
            return render(request, "accounts/link_invalid.html")
        form = NewPasswordForm(link.user)
        return render(request, "accounts/set_password.html", {"form": form, "link": link})
    with transaction.atomic():
        link = PasswordLink.find(token, for_update=True)
        if link is None:
            return render(request, "accounts/link_invalid.html")
        form = NewPasswordForm(link.user, request.POST)
        if not form.is_valid():
            return render(request, "accounts/set_password.html", {"form": form, "link": link})
        user = form.save()  # a new password hash also ends the account's other sessions
        PasswordLink.spend_all(user)
        throttle.clear(user.email)
        queue("password-changed", user.email, {"email": user.email, "staff": user.is_staff})
    login(request, user)
    if user.is_staff and not user.parent_links.exists():
        return redirect("admin:index")
    return redirect("children")
