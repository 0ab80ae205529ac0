"""`{% if user|may_see_backlog %}`: whether the workspace's navigation offers the backlog
dashboard, by the same test as the page and the API (production.dashboard)."""

from django import template

from appointments.access import staff_scope
from production.dashboard import may_see_backlog as allowed

register = template.Library()


@register.filter
def may_see_backlog(user) -> bool:
    return allowed(staff_scope(user))
