from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and its `seed_demo` command; no models."""

    name = "demo"
