"""The API's request parser (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]).

A module of its own: DRF reads its settings while `rest_framework.views` is imported, which
epassport.api itself imports.
"""

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, which lets RecursionError (a body of 100 000 `[`) escape as a 500:
    any body it cannot read is a ParseError (400 `invalid`)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError() from None
