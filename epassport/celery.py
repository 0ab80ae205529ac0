"""The Celery application: broker on Redis, beat on django-celery-beat's database scheduler."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epassport.settings")

app = Celery("epassport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
