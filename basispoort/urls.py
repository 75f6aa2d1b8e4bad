from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from launcher import views as launcher_views

urlpatterns = [
    path("", launcher_views.home, name="home"),
    path("beheer/", admin.site.urls),
    path("admin/", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("schools.urls")),
]
