"""`POST /api/v1/auth/token/`: a token of the staff API for a member of staff.

The password is checked by Django's authentication with the lockout in front of it
(django-axes, epassport/lockout.py: 429 `locked_out`); supervisors, administrators and
anyone with an enrolled device also send the code of their authenticator app (`otp`; 401
`otp_required` when it is missing or wrong); a wrong code counts as a failed login. The
token itself (expiry, revocation) is in api/tokens.py.
"""

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments import access, protection, twofactor
from appointments.api.serializers import ErrorSerializer, InvalidErrorSerializer
from epassport import lockout
from epassport.errors import DomainError
from epassport.parsers import JSONParser

from . import tokens
from .serializers import TokenInputSerializer, TokenSerializer


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 400
    default_detail = _("Identifiant ou mot de passe incorrect.")


class OtpRequired(DomainError):
    code = "otp_required"
    status = 401
    default_detail = _(
        "Code de vérification manquant ou incorrect : envoyez dans `otp` le code à 6 chiffres "
        "de votre application d’authentification."
    )


def _locked_out(request: Request) -> bool:
    return bool(getattr(request._request, "axes_locked_out", False))


def _check_second_factor(request: Request, user, scope: access.StaffScope, code: str) -> None:
    """Raise OtpRequired unless `code` is the current one of the user's device, for those
    who must give one (and anyone with a device); a wrong code is a failed login."""
    device = twofactor.confirmed_device(user)
    if device is None and not access.two_factor_required(user, scope):
        return
    if device is None:
        raise OtpRequired(
            _(
                "Enregistrez d’abord votre application d’authentification dans l’espace "
                "agents (/staff/)."
            )
        )
    if not code:
        raise OtpRequired()
    if not twofactor.check_code(device, code):
        user_login_failed.send(
            sender=__name__,
            credentials={"username": user.get_username()},
            request=request._request,
        )
        if _locked_out(request):
            raise lockout.locked_out()
        raise OtpRequired()


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
                description="`invalid_credentials` (wrong username or password, or not a "
                "member of staff) or `invalid`.",
            ),
            401: OpenApiResponse(
                ErrorSerializer,
                description="`otp_required`: the account needs the code of its "
                "authenticator app, and `otp` is missing or wrong (or no device is "
                "enrolled yet: enrol it in the staff workspace).",
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
        if protection.rate_limited(request, group="login", rate=settings.LOGIN_RATE):
            raise protection.RateLimited()
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
        _check_second_factor(request, user, scope, data.get("otp", ""))
        token = tokens.token_issue(user=user)
        return Response(
            TokenSerializer({"token": token.key, "expires_at": tokens.expires_at(token)}).data
        )
