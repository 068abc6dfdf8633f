from django import template

from audit import activity

register = template.Library()


@register.simple_tag
def project_activity(project, limit: int = 50) -> list[activity.Activity]:
    return activity.for_project(project, limit)
