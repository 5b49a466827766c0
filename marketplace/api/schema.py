"""What only a postprocessing hook can do: put the plain Django views outside DRF (the
probes, a publisher's one-time callback, signed payload downloads) into the document, at the
paths the URLconf gives them, with the components they refer to. Each of those views carries
its own description (`@path_item`); every DRF view declares its operations beside itself with
`@operation` (marketplace/api/openapi.py).
"""

import copy
import re

from django.urls import URLPattern, URLResolver, get_resolver

from marketplace.api.openapi import component_schema, refs_in


def openapi_path(route):
    """A Django route as an OpenAPI path: `<str:sid>` becomes `{sid}`."""
    return "/" + re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", route)


def url_patterns(patterns=None, prefix=""):
    """(route, callback) of every URL pattern of the project, included ones too."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def add_plain_django_views(result, generator, request, public):
    """Postprocessing hook: the Django views outside DRF (probes, callback, downloads)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for route, callback in url_patterns():
        declared = getattr(callback, "openapi_path_item", None)  # set by openapi.path_item beside the view
        if declared is None:
            continue
        item = copy.deepcopy(declared)
        result["paths"][openapi_path(route)] = item
        pending = list(refs_in(item))
        while pending:
            component = pending.pop()
            if component not in schemas:
                schemas[component] = component_schema(component)
                pending.extend(refs_in(schemas[component]))
    result["paths"] = dict(sorted(result["paths"].items()))
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result
