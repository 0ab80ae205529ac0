"""The WSGI application. Under gunicorn, the core app refuses to start when the pages could not
name their static files (core.apps.CoreConfig.ready)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epassport.settings")
application = get_wsgi_application()
