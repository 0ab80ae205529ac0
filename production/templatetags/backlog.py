"""What the workspace's navigation offers, by the same tests as the pages and the API:
`{% if user|may_see_backlog %}` (the backlog dashboard, production.dashboard) and
`{% if user|may_suspend %}` (the suspensions: administrators of the ministry)."""

from django import template

from core.access import staff_scope
from production.dashboard import may_see_backlog as allowed

register = template.Library()


@register.filter
def may_see_backlog(user) -> bool:
    return allowed(staff_scope(user))


@register.filter
def may_suspend(user) -> bool:
    return staff_scope(user).is_admin
