"""Reads every app shares."""

from marketplace.errors import NotFound


def one(queryset, sid, what, *, param=None):
    """The row with this SID in `queryset` (already scoped to what the caller may see), or
    NotFound; another account's row is simply not in the queryset, so it is not found."""
    found = queryset.filter(sid=sid).first()
    if found is None:
        prefix = f"Parameter '{param}': " if param else ""
        raise NotFound(f"{prefix}{what} {sid} was not found", param=param)
    return found
