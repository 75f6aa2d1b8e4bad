from django.urls import path

from sso import views

urlpatterns = [
    path(".well-known/openid-configuration", views.discovery, name="oidc-discovery"),
    path("oidc/jwks/", views.jwks, name="oidc-jwks"),
    path("oidc/authorize/", views.authorize, name="oidc-authorize"),
    path("oidc/token/", views.token, name="oidc-token"),
    path("oidc/userinfo/", views.userinfo, name="oidc-userinfo"),
]
