"""Template helpers shared by every page of the portal."""

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language, get_language_info

register = template.Library()


@register.simple_tag(takes_context=True)
def language_versions(context) -> list[dict[str, object]]:
    """The current page in each language: for the language switch and hreflang links.

    Plain links (no form, no JavaScript) so that the switch works on any phone and the
    English page has its own address (/en/...) that can be shared.
    """
    request = context.get("request")
    path = request.get_full_path() if request else "/"
    current = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return [
        {
            "code": code,
            "name": get_language_info(code)["name_local"].capitalize(),
            "url": translate_url(path, code),
            "current": code == current,
        }
        for code, _name in settings.LANGUAGES
    ]
