"""2010 API: the account's IncomingPhoneNumbers."""

from rest_framework import status
from rest_framework.response import Response

from accounts import selectors, services
from accounts.api import serializers
from marketplace.api import params
from marketplace.api.pagination import v2010_list
from marketplace.api.views import Account2010APIView
from marketplace.errors import InvalidParameter

METHODS = ("GET", "POST")


def phone_number_fields(data):
    return {
        "friendly_name": params.string(data, "FriendlyName", max_length=64),
        "sms_url": params.url(data, "SmsUrl"),
        "sms_method": params.choice(data, "SmsMethod", METHODS),
        "voice_url": params.url(data, "VoiceUrl"),
        "voice_method": params.choice(data, "VoiceMethod", METHODS),
    }


class IncomingPhoneNumberList(Account2010APIView):
    def get(self, request, account_sid):
        query = request.query_params
        params.boolean(query, "Beta")  # every number here is old to the platform: both values list all
        numbers = selectors.phone_numbers_matching(
            self.account,
            phone_number=params.string(query, "PhoneNumber", max_length=40),
            friendly_name=params.string(query, "FriendlyName"),
            origin=params.choice(query, "Origin", ("twilio", "hosted")),
        )
        return Response(
            v2010_list(
                request,
                numbers,
                key="incoming_phone_numbers",
                path=f"/2010-04-01/Accounts/{self.account.sid}/IncomingPhoneNumbers.json",
                render=serializers.incoming_phone_number,
            )
        )

    def post(self, request, account_sid):
        if "PhoneNumber" not in request.data and "AreaCode" in request.data:
            raise InvalidParameter(
                "Parameter 'AreaCode': buying numbers is not offered; register your own with 'PhoneNumber'",
                param="AreaCode",
            )
        number = services.create_phone_number(
            account=self.account,
            phone_number=params.e164(request.data, "PhoneNumber", required=True),
            **phone_number_fields(request.data),
        )
        return Response(serializers.incoming_phone_number(number), status=status.HTTP_201_CREATED)


class IncomingPhoneNumberDetail(Account2010APIView):
    def number(self, sid):
        return selectors.phone_number(self.account, self.path_sid(sid, "PN"))

    def get(self, request, account_sid, sid):
        return Response(serializers.incoming_phone_number(self.number(sid)))

    def post(self, request, account_sid, sid):
        number = services.update_phone_number(phone_number=self.number(sid), **phone_number_fields(request.data))
        return Response(serializers.incoming_phone_number(number))

    def delete(self, request, account_sid, sid):
        services.delete_phone_number(phone_number=self.number(sid))
        return Response(status=status.HTTP_204_NO_CONTENT)
