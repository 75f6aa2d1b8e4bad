from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from basispoort import bench
from launcher import views as launcher_views

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include("launcher.urls")),
    path("", include("schools.urls")),
    path("", include("sso.urls")),
    path("beheer/", admin.site.urls),
    path("admin/", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    # Browsers ask for this on pages without a <link rel="icon">, such as JSON answers.
    path("favicon.ico", launcher_views.favicon),
]

if settings.BENCH_VIEWS:
    urlpatterns.append(path("bench/leeg/", bench.empty))
