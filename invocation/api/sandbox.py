"""The inbound traffic sandbox: POST /sandbox/v1/Messages and /sandbox/v1/Calls."""

from drf_spectacular.utils import extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from accounts.models import IncomingPhoneNumber
from invocation import inbound
from marketplace.api import params
from marketplace.api.openapi import E164, SANDBOX, form, operation, resource, string
from marketplace.api.views import AccountAPIView
from marketplace.errors import NotFound


class InboundView(AccountAPIView):
    kind = None

    def post(self, request):
        data = request.data
        sender = params.e164(data, "From", required=True)
        to = params.e164(data, "To", required=True)
        body = params.string(data, "Body", required=True, max_length=1600) if self.kind == "message" else None
        number = (
            IncomingPhoneNumber.objects.select_related("account").filter(phone_number=to, account=self.account).first()
        )
        if number is None:
            raise NotFound(f"Parameter 'To': {to} is not a phone number of this account", param="To")
        result = inbound.receive(phone_number=number, kind=self.kind, sender=sender, body=body)
        return Response(result, status=status.HTTP_201_CREATED)


@extend_schema_view(
    post=operation(
        "CreateInboundMessage",
        "A message arriving at one of your numbers: runs its add-ons, then its webhook.",
        SANDBOX,
        {201: resource("What the add-ons and the webhook made of it.", "sandbox.v1.inbound")},
        body=form(
            {
                "From": {**E164, "description": "The sender."},
                "To": {**E164, "description": "One of your IncomingPhoneNumbers."},
                "Body": string("The text, up to 1600 characters.", maxLength=1600),
            },
            required=("From", "To", "Body"),
        ),
        body_required=True,
        errors=(400, 404, 415),
    ),
)
class InboundMessage(InboundView):
    kind = "message"


@extend_schema_view(
    post=operation(
        "CreateInboundCall",
        "A call arriving at one of your numbers: runs its add-ons, then its webhook.",
        SANDBOX,
        {201: resource("What the add-ons and the webhook made of it.", "sandbox.v1.inbound")},
        body=form(
            {"From": {**E164, "description": "The caller."}, "To": {**E164, "description": "One of your numbers."}},
            required=("From", "To"),
        ),
        body_required=True,
        errors=(400, 404, 415),
    ),
)
class InboundCall(InboundView):
    kind = "call"
