"""Template filters `size` and `when`, loaded in every template (TEMPLATES builtins)."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from portal.format import human_datetime, human_size

register = template.Library()
register.filter("size", human_size)
register.filter("when", human_datetime)


@register.filter
def wrap_path(path: str) -> SafeString:
    """A file path that may break after each "/" and nowhere inside a name."""
    return mark_safe("/<wbr>".join(escape(part) for part in str(path).split("/")))  # noqa: S308 (escaped)
