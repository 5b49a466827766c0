"""List pages for both API generations, on a keyset cursor.

`PageToken` is an opaque, signed cursor naming the row a page starts after (or, going back,
before), so a deep page costs one indexed range scan, exactly like the first. With a token,
`Page` is only echoed back as client state, as Twilio documents it; without one (a client
counting pages itself, as Twilio's own pages allow) `Page` N starts after N × PageSize rows,
and the links it returns carry tokens again.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.core import signing

from marketplace.api import params
from marketplace.api.formats import absolute_url
from marketplace.errors import InvalidParameter

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_SALT = "marketplace.page-token"
_PAGING_PARAMS = {"Page", "PageSize", "PageToken"}


def make_token(direction, key):
    return "PT" + signing.dumps([direction, key], salt=_SALT, compress=False)


def read_token(token):
    try:
        if not token.startswith("PT"):
            raise signing.BadSignature
        direction, key = signing.loads(token[2:], salt=_SALT)
        if direction not in ("n", "p") or not isinstance(key, (int, str)):
            raise signing.BadSignature
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidParameter("Parameter 'PageToken' is not a page token this API issued", param="PageToken")
    return direction, key


@dataclass
class Page:
    rows: list
    number: int
    size: int
    next_token: str | None
    previous_token: str | None


def page_of(request, queryset):
    """One page of `queryset` (ordered by id) as the request's paging parameters ask."""
    query = request.query_params
    size = params.integer(query, "PageSize", minimum=1, maximum=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)
    number = params.integer(query, "Page", minimum=0, default=0)
    token = params.string(query, "PageToken")
    if token:
        direction, key = read_token(token)
    elif number > 0:
        direction, key = "n", _key_before(queryset, number * size)
    else:
        direction, key = "n", None

    if direction == "n":
        qs = queryset.order_by("id")
        if key is not None:
            qs = qs.filter(id__gt=key)
        rows = list(qs[: size + 1])
        has_more_after, has_more_before = len(rows) > size, key is not None
        rows = rows[:size]
    else:
        rows = list(queryset.filter(id__lt=key).order_by("-id")[: size + 1])
        has_more_before, has_more_after = len(rows) > size, True
        rows = list(reversed(rows[:size]))

    next_token = make_token("n", rows[-1].id) if rows and has_more_after else None
    previous_token = make_token("p", rows[0].id) if rows and has_more_before and number > 0 else None
    return Page(rows, number, size, next_token, previous_token)


def _key_before(queryset, offset):
    """The id a page starting `offset` rows in follows (one index scan over ids); past the
    end, a key nothing follows."""
    if offset > MAX_OFFSET:
        return _PAST_THE_END
    ids = queryset.order_by("id").values_list("id", flat=True)[offset - 1 : offset]
    return next(iter(ids), _PAST_THE_END)


MAX_OFFSET = 2**31
_PAST_THE_END = 2**62


def _page_path(request, path, page, number, token):
    # Keep the caller's filters, replace the paging parameters.
    pairs = [(k, v) for k, vs in request.query_params.lists() if k not in _PAGING_PARAMS for v in vs]
    pairs += [("PageSize", page.size), ("Page", number)]
    if token:
        pairs.append(("PageToken", token))
    return f"{path}?{urlencode(pairs)}"


def v1_list(request, queryset, *, key, path, render):
    """The v1 envelope: `{key: [...], "meta": {...}}` with absolute URLs."""
    page = page_of(request, queryset)
    current_token = params.string(request.query_params, "PageToken")

    def link(number, token):
        return absolute_url(_page_path(request, path, page, number, token))

    return {
        key: [render(row) for row in page.rows],
        "meta": {
            "page": page.number,
            "page_size": page.size,
            "first_page_url": link(0, None),
            "previous_page_url": link(page.number - 1, page.previous_token) if page.previous_token else None,
            "url": link(page.number, current_token),
            "next_page_url": link(page.number + 1, page.next_token) if page.next_token else None,
            "key": key,
        },
    }


def v2010_list(request, queryset, *, key, path, render):
    """The 2010 envelope: relative `*_uri` fields, `start` and `end`."""
    page = page_of(request, queryset)
    current_token = params.string(request.query_params, "PageToken")

    def link(number, token):
        return _page_path(request, path, page, number, token)

    start = page.number * page.size
    return {
        key: [render(row) for row in page.rows],
        "first_page_uri": link(0, None),
        "previous_page_uri": link(page.number - 1, page.previous_token) if page.previous_token else None,
        "next_page_uri": link(page.number + 1, page.next_token) if page.next_token else None,
        "page": page.number,
        "page_size": page.size,
        "start": start,
        "end": start + max(len(page.rows) - 1, 0),
        "uri": link(page.number, current_token),
    }


def list_page(request, items, *, key, path, cursor):
    """The 2010 envelope over a short list already sorted by `cursor` (aggregates, not rows):
    the same parameters and opaque tokens, going forward only."""
    query = request.query_params
    size = params.integer(query, "PageSize", minimum=1, maximum=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)
    number = params.integer(query, "Page", minimum=0, default=0)
    token = params.string(query, "PageToken")
    after = read_token(token)[1] if token else None
    # Without a token, Page N skips N pages, as page_of does.
    skipped = items if token else items[number * size :]
    remaining = [item for item in skipped if after is None or cursor(item) > after]
    rows = remaining[:size]
    page = Page(rows, number, size, make_token("n", cursor(rows[-1])) if len(remaining) > size else None, None)
    start = number * size
    return {
        key: rows,
        "first_page_uri": _page_path(request, path, page, 0, None),
        "previous_page_uri": None,
        "next_page_uri": _page_path(request, path, page, number + 1, page.next_token) if page.next_token else None,
        "page": number,
        "page_size": size,
        "start": start,
        "end": start + max(len(rows) - 1, 0),
        "uri": _page_path(request, path, page, number, token),
    }
