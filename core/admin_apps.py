"""The Django admin, as an app whose site asks for the second factor (INSTALLED_APPS names
this config in place of django.contrib.admin). Kept apart from admin_site.py: an app config
module is imported before the models exist."""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "core.admin_site.PortalAdminSite"
