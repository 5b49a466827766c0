"""POST /v1/ReferralConversion (Marketplace v1): a partner reports a referred account's conversion."""

from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts import services
from marketplace.api.openapi import (
    JSON,
    PUBLISHERS,
    REFERRAL,
    operation,
    resource,
    sid_schema,
)
from marketplace.api.views import PublisherAPIView
from marketplace.errors import InvalidParameter
from marketplace.sids import normalize_sid

FIELD = "referral_account_sid"


class ReferralConversion(PublisherAPIView):
    # JSON, as the official description and SDKs send it.
    parser_classes = [JSONParser]

    @operation(
        "CreateReferralConversion",
        "Report that an account you referred converted.",
        PUBLISHERS,
        {200: resource("Recorded (or already recorded for you): the converted account.", REFERRAL)},
        body={
            JSON: {
                "type": "object",
                "required": ["referral_account_sid"],
                "properties": {
                    "referral_account_sid": {**sid_schema("AC"), "description": "The account you referred."}
                },
            }
        },
        body_required=True,
        errors=(400, 404, 409, 415),
        description="JSON, as the official SDKs send it. 403 (20403) when the caller is not a publisher; 404 for an "
        "unknown account; 409 when the account already converted for another referrer; 400 for your own account or "
        "one that is not active.",
    )
    def post(self, request):
        data = request.data
        value = data.get(FIELD) if isinstance(data, dict) else None
        sid = normalize_sid(value, "AC") if isinstance(value, str) else None
        if sid is None:
            raise InvalidParameter(
                f"The body must be a JSON object whose {FIELD} is an account SID (AC and 32 hex digits)", param=FIELD
            )
        referral = services.convert_referral(referrer=self.account, referred_sid=sid)
        return Response({"converted_account_sid": referral.referred.sid})
