"""Tokens of the staff API (DRF's authtoken: one per member of staff).

A token is issued by `POST /api/v1/auth/token/` and stays the same when asked again while it
is valid; it expires API_TOKEN_TTL_HOURS after it was issued (then the endpoint issues a new
one), and a new password revokes it at once (the save of the account deletes it).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def expires_at(token: Token) -> datetime:
    return token.created + timedelta(hours=settings.API_TOKEN_TTL_HOURS)


@transaction.atomic
def token_issue(*, user) -> Token:
    """The member's token: the one they have while it is valid, else a new one."""
    # The account's row is locked: two requests at once issue one token, not a conflict.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    token = Token.objects.filter(user=user).first()
    if token is not None and timezone.now() < expires_at(token):
        return token
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, refused (401) once the token has expired."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if timezone.now() >= expires_at(token):
            raise exceptions.AuthenticationFailed(
                _("Jeton expiré : demandez-en un nouveau à /api/v1/auth/token/.")
            )
        return user, token


def revoke_on_password_change(sender, instance, update_fields=None, **kwargs) -> None:
    """pre_save of the user model: a new password revokes the account's token."""
    if instance.pk is None:
        return
    if update_fields is not None and "password" not in update_fields:
        return  # e.g. the last login's time, saved at every login
    stored = type(instance).objects.filter(pk=instance.pk).values_list("password", flat=True)
    if stored.first() not in (None, instance.password):
        Token.objects.filter(user_id=instance.pk).delete()
