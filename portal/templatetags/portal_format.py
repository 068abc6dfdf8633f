"""Template filters `size` and `when`, loaded in every template (TEMPLATES builtins)."""

from django import template

from portal.format import human_datetime, human_size

register = template.Library()
register.filter("size", human_size)
register.filter("when", human_datetime)
