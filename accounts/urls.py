from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("uitloggen/", views.log_out, name="logout"),
    path("wachtwoord-vergeten/", views.forgot_password, name="forgot-password"),
    # Django's admin login page links to this name ("wachtwoord vergeten?").
    path("beheer/wachtwoord-vergeten/", views.forgot_password, name="admin_password_reset"),
    path("wachtwoord/<str:token>/", views.set_password, name="set-password"),
]
