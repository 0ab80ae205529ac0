"""`POST /api/v1/auth/token/`: a token of the staff API for a member of staff.

The password is checked by Django's authentication with the lockout in front of it
(django-axes, core/lockout.py: 429 `locked_out`); supervisors, administrators and
anyone with an enrolled device also send the code of their authenticator app (`otp`). Every
failure gets the same answer, 400 `invalid_credentials`, and counts as a failed login: a
wrong password, a right one with a missing or wrong code, a right one of an account whose
device is not enrolled yet. Answering a right password differently (the former 401
`otp_required`) would tell an attacker the password before it ever needed the code. The
token itself (expiry, revocation) is in core/tokens.py.
"""

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import access, clients, lockout, tokens, twofactor
from .api import ErrorSerializer, InvalidErrorSerializer
from .errors import DomainError
from .parsers import JSONParser


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 400
    default_detail = _(
        "Identifiant, mot de passe ou code de vérification incorrect. Les superviseurs et "
        "administrateurs envoient aussi dans `otp` le code à 6 chiffres de leur application "
        "d’authentification, enregistrée dans l’espace agents (/staff/)."
    )


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    otp = serializers.CharField(
        max_length=12,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="The 6-digit code of the authenticator app: required of supervisors, "
        "administrators and anyone with an enrolled device.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send it as `Authorization: Token <token>` with every request."
    )
    expires_at = serializers.DateTimeField(
        help_text="When the token stops working (API_TOKEN_TTL_HOURS after it was issued); "
        "a new password revokes it at once."
    )


def _locked_out(request: Request) -> bool:
    return bool(getattr(request._request, "axes_locked_out", False))


def _second_factor_passed(user, scope: access.StaffScope, code: str) -> bool:
    """Whether the user needs no code, or `code` is the current one of their device (for
    those who must give one, and anyone with a device)."""
    device = twofactor.confirmed_device(user)
    if device is None:
        return not access.two_factor_required(user, scope)
    return bool(code) and twofactor.check_code(device, code)


def _failed(request: Request, username: str) -> InvalidCredentials:
    """Count a failed login whose password was right (the code was not): the lockout counts
    it as it counts a wrong password."""
    user_login_failed.send(
        sender=__name__, credentials={"username": username}, request=request._request
    )
    if _locked_out(request):
        raise lockout.locked_out()
    return InvalidCredentials()


class TokenCreateView(APIView):
    """A token for an integration, given to a member of staff (one with a membership)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="auth_token_create",
        summary="A token for the staff API",
        request=TokenInputSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(
                InvalidErrorSerializer,
                description="`invalid_credentials` (wrong username or password, not a member "
                "of staff, or an account that needs the code of its authenticator app with "
                "`otp` missing or wrong or no device enrolled yet: one answer for all, so "
                "that it never tells which part was right) or `invalid`.",
            ),
            429: OpenApiResponse(
                ErrorSerializer,
                description="`rate_limited` (too many requests from the address) or "
                "`locked_out` (too many failed logins for the account or the address; "
                "`Retry-After` says for how long).",
            ),
        },
        tags=["staff"],
    )
    def post(self, request: Request) -> Response:
        translation.activate(translation.get_language_from_request(request, check_path=False))
        # Passwords are not to be guessed: a budget of attempts per address, in Redis.
        if clients.rate_limited(request, group="login", rate=settings.LOGIN_RATE):
            raise clients.RateLimited()
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if _locked_out(request):
            raise lockout.locked_out()
        scope = access.staff_scope(user)
        # Someone without a membership is told exactly what a wrong password is told.
        if user is None or not scope.is_member:
            raise InvalidCredentials()
        if not _second_factor_passed(user, scope, data.get("otp", "")):
            raise _failed(request, user.get_username())
        token = tokens.token_issue(user=user)
        return Response(
            TokenSerializer({"token": token.key, "expires_at": tokens.expires_at(token)}).data
        )
