"""Domain errors: raised by services, turned into a form message on pages and into
`{"code": ..., "detail": ...}` with the right 4xx status by the API's exception handler."""

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refusal with a stable `code`, an HTTP `status` and a `default_detail` for people.
    Each error is a subclass declaring its code and detail; its status comes from one of
    the kinds below (BadRequest, Conflict) unless it is a kind of its own
    (NotFound, Forbidden)."""

    code = "error"
    status = 400
    default_detail = _("La demande ne peut pas être traitée.")

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = str(detail or self.default_detail)
        self.extra = extra
        super().__init__(self.detail)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, **self.extra}


class BadRequest(DomainError):
    """What was asked is wrong in itself (400)."""

    status = 400


class Conflict(DomainError):
    """What was asked is well formed, but the current state of things refuses it (409)."""

    status = 409


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_detail = _("Introuvable.")


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    default_detail = _("Votre rôle ne permet pas cette action.")
