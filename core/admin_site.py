"""The admin site of the portal: django-otp's OTPAdminSite (only sessions that proved a
second factor get in), with the staff login form (username, password, code; lockout) and at
the path set by ADMIN_URL (epassport/urls.py)."""

from django_otp.admin import OTPAdminSite

from core.staff_login import StaffAdminLoginForm


class PortalAdminSite(OTPAdminSite):
    login_form = StaffAdminLoginForm
    login_template = "admin/portal_login.html"

    def __init__(self, name: str = "admin") -> None:
        # `admin`, not django-otp's `otpadmin`: {% url 'admin:...' %} and reverse() work.
        super().__init__(name)
