"""The inbound traffic sandbox: POST /sandbox/v1/Messages and /sandbox/v1/Calls."""

from rest_framework import status
from rest_framework.response import Response

from accounts.models import IncomingPhoneNumber
from invocation import inbound
from marketplace.api import params
from marketplace.api.views import AccountAPIView
from marketplace.errors import NotFound


class InboundView(AccountAPIView):
    kind = None

    def post(self, request):
        data = request.data
        sender = params.e164(data, "From", required=True)
        to = params.e164(data, "To", required=True)
        body = params.string(data, "Body", required=True, max_length=1600) if self.kind == "message" else None
        number = IncomingPhoneNumber.objects.select_related("account").filter(phone_number=to, account=self.account).first()
        if number is None:
            raise NotFound(f"Parameter 'To': {to} is not a phone number of this account", param="To")
        result = inbound.receive(phone_number=number, kind=self.kind, sender=sender, body=body)
        return Response(result, status=status.HTTP_201_CREATED)


class InboundMessage(InboundView):
    kind = "message"


class InboundCall(InboundView):
    kind = "call"
