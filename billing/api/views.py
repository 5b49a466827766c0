"""Manual usage reporting (POST /v1/InstalledAddOns/{XE}/Usage) and customer usage records."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.response import Response

from billing import selectors, services
from marketplace.api.openapi import (
    ACCOUNT_SID,
    API_2010,
    JSON,
    PAGING,
    PUBLISHERS,
    USAGE,
    USAGE_RECORD,
    operation,
    path_sid,
    query,
    ref,
    resource,
    v2010_page,
)
from marketplace.api.pagination import list_page
from marketplace.api.parsers import JSONParser
from marketplace.api.views import Account2010APIView, PublisherAPIView

USAGE_TOKEN_HEADERS = ("HTTP_I_TWILIO_IDEMPOTENCY_TOKEN", "HTTP_IDEMPOTENCY_KEY")


class DecimalJSONParser(JSONParser):
    """JSON with its numbers read as Decimal, never float: 12.355 stays 12.355, 1e-7 and a
    5,000-digit integer are seen as what they are, and NaN or Infinity reach the quantity
    check, which names the parameter. Depth and size limits as for every JSON body."""

    decimals = True


class InstalledAddOnUsage(PublisherAPIView):
    parser_classes = [DecimalJSONParser]

    @operation(
        "CreateBillingUsage",
        "Report manual usage of a customer's installation of your add-on.",
        PUBLISHERS,
        {202: resource("Accepted: each item says whether it was billed.", USAGE)},
        parameters=(
            path_sid("installation_sid", "XE", "customer's installation of your add-on"),
            OpenApiParameter(
                "I-Twilio-Idempotency-Token",
                type={"type": "string", "maxLength": 100},
                location=OpenApiParameter.HEADER,
                description="Identifies the report: sending it again bills each item once.",
            ),
        ),
        body={JSON: ref(USAGE)},
        body_required=True,
        errors=(400, 404, 415),
        description="JSON, not form-encoded. 403 when the caller is not the add-on's publisher, the add-on "
        "is not priced `manual`, or not in a reportable state.",
    )
    def post(self, request, installation_sid):
        data = request.data
        token = next((request.META[h] for h in USAGE_TOKEN_HEADERS if request.META.get(h)), "")
        body = services.report_usage(
            publisher=self.account,
            installation_sid=installation_sid,
            items=data.get("billable_items") if isinstance(data, dict) else None,
            token=token,
        )
        return Response(body, status=status.HTTP_202_ACCEPTED)


class UsageRecordList(Account2010APIView):
    @operation(
        "ListUsageRecord",
        "Marketplace usage: one record in all, one per add-on.",
        API_2010,
        {200: ("A page of usage records.", v2010_page("usage_records", ref(USAGE_RECORD)))},
        parameters=(
            ACCOUNT_SID,
            query(
                "Category",
                {"type": "string"},
                "`marketplace` (all add-ons) or `marketplace-<unique name>` (one add-on).",
            ),
            query(
                "StartDate", {"type": "string", "format": "date"}, "First day (UTC); the account's creation by default."
            ),
            query("EndDate", {"type": "string", "format": "date"}, "Last day (UTC); today by default."),
            *PAGING,
        ),
        errors=(400, 404),
    )
    def get(self, request, account_sid):
        query = request.query_params
        records = selectors.usage_records(
            self.account,
            category=query.get("Category"),
            start_date=selectors.parse_date(query, "StartDate"),
            end_date=selectors.parse_date(query, "EndDate"),
        )
        return Response(
            list_page(
                request,
                records,
                key="usage_records",
                path=reverse("usage_record_list", kwargs={"account_sid": self.account.sid}),
                cursor=lambda record: record["category"],
            )
        )
