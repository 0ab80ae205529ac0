from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = _("production")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from appointments.signals import suspension_changed

        from . import backlog
        from .api import tokens

        suspension_changed.connect(
            backlog.on_suspension_changed, dispatch_uid="production.backlog.on_suspension"
        )
        # a new password revokes the staff API token.
        pre_save.connect(
            tokens.revoke_on_password_change,
            sender=get_user_model(),
            dispatch_uid="production.api.tokens.revoke_on_password_change",
        )
