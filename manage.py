#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epassport.settings")
    if not os.environ.get("DATABASE_URL") and not os.environ.get("SECRET_KEY"):
        # Nothing configured: a developer's machine. Use the embedded servers that
        # `make run` starts (scripts/devstack.py), so that `manage.py shell`, `makemigrations`
        # and the like work in a second terminal. A deployment always sets DATABASE_URL.
        data = Path(__file__).resolve().parent / ".data"
        os.environ.setdefault("DEBUG", "true")
        os.environ["DATABASE_URL"] = f"postgresql://postgres@/epassport?host={data / 'postgres'}"
        os.environ.setdefault("REDIS_URL", f"unix://{data / 'redis' / 'redis.sock'}?db=0")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
