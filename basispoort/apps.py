from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """Django admin, with the school-scoped site in place of the default one."""

    default_site = "basispoort.admin_site.PortalAdminSite"
