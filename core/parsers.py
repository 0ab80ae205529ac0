"""The API's request parser and content negotiation (REST_FRAMEWORK's
DEFAULT_PARSER_CLASSES and DEFAULT_CONTENT_NEGOTIATION_CLASS).

A module of its own: DRF reads its settings while `rest_framework.views` is imported, which
core.api itself imports.
"""

from rest_framework import exceptions, negotiation, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, which lets RecursionError (a body of 100 000 `[`) escape as a 500:
    any body it cannot read is a ParseError (400 `invalid`)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError() from None


class ContentNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's negotiation, with its commonest answer found at once: when the client accepts
    anything (no Accept header, or `*/*`) or exactly the first renderer's media type, and
    asks no format in the URL, DRF's rules pick the first renderer. Parsing the Accept
    header was a tenth of a `slot_full` refusal's CPU at a reopening; any other request is
    negotiated by DRF as before (406 `not_acceptable` included)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        first = renderers[0]
        if (
            (accept == "*/*" or accept == first.media_type)
            and not format_suffix
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
