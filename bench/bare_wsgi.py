"""The baseline of bench_list_throughput: a bare Django view, served only by the benchmark.

    gunicorn bare_wsgi:application --pythonpath bench ...      (same workers and threads)

The same settings module (marketplace.settings: same DATABASE_URL from the environment, same
middleware, CONN_MAX_AGE as the platform gets) and Django's own WSGI handler; only the urlconf
is this module's: one function view at /v1/AvailableAddOns that answers the first 50 active
listings (the rows the platform's first page shows, same fields and values) from one
`Listing.objects.values(...)` query as compact JSON. No authentication, no DRF, no selectors,
no serializers, no paging tokens.
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

PAGE_SIZE = 50
FIELDS = ("sid", "friendly_name", "description", "pricing_type", "latest_version__configuration_schema")


def available_add_ons(request):
    from addons.models import Listing

    base = settings.MARKETPLACE_BASE_URL
    rows = (
        Listing.objects.filter(state="active", latest_version__isnull=False).order_by("id").values(*FIELDS)[:PAGE_SIZE]
    )
    body = {
        "available_add_ons": [
            {
                "sid": row["sid"],
                "friendly_name": row["friendly_name"],
                "description": row["description"],
                "pricing_type": row["pricing_type"],
                "configuration_schema": row["latest_version__configuration_schema"],
                "url": f"{base}/v1/AvailableAddOns/{row['sid']}",
                "links": {"extensions": f"{base}/v1/AvailableAddOns/{row['sid']}/Extensions"},
            }
            for row in rows
        ],
        "meta": {"page": 0, "page_size": PAGE_SIZE, "key": "available_add_ons"},
    }
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return HttpResponse(content, content_type="application/json")


urlpatterns = [path("v1/AvailableAddOns", available_add_ons)]

application = get_wsgi_application()
# Resolved per request from settings, so this swaps the platform's urls for the one view above.
settings.ROOT_URLCONF = __name__
