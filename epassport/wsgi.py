import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epassport.settings")
application = get_wsgi_application()


def _refuse_without_static_files() -> None:
    """With DEBUG off every page names its files through collectstatic's manifest: without it
    they would all answer 500. Refused at start instead, with what to do: when gunicorn
    serves the portal (it names itself in SERVER_SOFTWARE before loading the application),
    not when a test or a script imports this module."""
    if not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        return
    from core.health import static_manifest_problem

    problem = static_manifest_problem()
    if problem:
        raise ImproperlyConfigured(f"The portal cannot serve its pages: {problem}.")


_refuse_without_static_files()
