from django import template

from billing.money import format_money

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key)


@register.filter
def money(value, kind="total"):
    """Money for people: `{{ balance|money }}`, `{{ entry.amount|money:"amount" }}`."""
    return format_money(value, kind)
