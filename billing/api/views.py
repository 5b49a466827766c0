"""Manual usage reporting (POST /v1/InstalledAddOns/{XE}/Usage) and customer usage records."""

from rest_framework import status
from rest_framework.response import Response

from billing import selectors, services
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
                path=f"/2010-04-01/Accounts/{self.account.sid}/Usage/Records.json",
                cursor=lambda record: record["category"],
            )
        )
