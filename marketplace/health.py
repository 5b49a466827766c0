"""Liveness and readiness for load balancers and orchestrators (no authentication)."""

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker

from marketplace.api.openapi import json_response, path_item, ref


@path_item(
    {
        "get": {
            "operationId": "FetchHealth",
            "summary": "Liveness: the process is up and answering.",
            "tags": ["Operations"],
            "security": [],
            "responses": {"200": json_response("Up.", ref("health"))},
        }
    }
)
@require_GET
def healthz(request):
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


@path_item(
    {
        "get": {
            "operationId": "FetchReadiness",
            "summary": "Readiness: the database, the task broker and the shared cache are reachable.",
            "tags": ["Operations"],
            "security": [],
            "responses": {
                "200": json_response("Ready.", ref("readiness")),
                "503": json_response("Not ready: the failing check says why.", ref("readiness")),
            },
        }
    }
)
@require_GET
def readyz(request):
    """The database, the task broker and the cache (circuit breakers' state) are reachable:
    this process can do real work."""
    checks = {"database": _database(), "broker": _broker(), "cache": _cache()}
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503)


def _database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:  # any failure means not ready; its kind is enough to say why
        return f"unreachable: {error.__class__.__name__}"


def _broker():
    try:
        return "ok" if get_broker().ping() else "unreachable"
    except Exception as error:
        return f"unreachable: {error.__class__.__name__}"


def _cache():
    # Circuit breakers fail open without their store: calls still go out, so say so here,
    # or a missing cache table (a release that skipped a migration) would go unnoticed.
    try:
        cache.get("readyz")
        return "ok"
    except Exception as error:
        return f"unreachable: {error.__class__.__name__}"
