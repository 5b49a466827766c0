"""2010 API: the account's IncomingPhoneNumbers."""

from django.urls import reverse
from rest_framework import status
from rest_framework.response import Response

from accounts import selectors, services
from accounts.api import serializers
from marketplace.api import params
from marketplace.api.openapi import (
    ACCOUNT_SID,
    API_2010,
    DELETED,
    E164,
    NUMBER,
    NUMBER_FIELDS,
    PAGING,
    form,
    operation,
    path_sid,
    query,
    ref,
    resource,
    string,
    v2010_page,
)
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
    @operation(
        "ListIncomingPhoneNumber",
        "Your numbers.",
        API_2010,
        {200: ("A page of numbers.", v2010_page("incoming_phone_numbers", ref(NUMBER)))},
        parameters=(
            ACCOUNT_SID,
            query(
                "PhoneNumber",
                {"type": "string", "maxLength": 40},
                "Numbers containing this fragment: digits, "
                "`*` for any one digit, a leading `+` anchors it at the start.",
            ),
            query("FriendlyName", {"type": "string"}, "Only numbers with this friendly name (exact)."),
            query(
                "Origin",
                {"type": "string", "enum": ["twilio", "hosted"]},
                "Every number here is `hosted` (registered by you); `twilio` lists none.",
            ),
            query("Beta", {"type": "boolean"}, "Accepted; no number here is new to the platform, so both list all."),
            *PAGING,
        ),
        errors=(400, 404),
    )
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
                path=reverse("incoming_phone_number_list", kwargs={"account_sid": self.account.sid}),
                render=serializers.incoming_phone_number,
            )
        )

    @operation(
        "CreateIncomingPhoneNumber",
        "Register a number you own, so its traffic can run add-ons.",
        API_2010,
        {201: resource("Registered.", NUMBER)},
        parameters=(ACCOUNT_SID,),
        body=form(
            {
                "PhoneNumber": {**E164, "description": "The number, E.164."},
                "AreaCode": string("Not offered: buying numbers is refused with 400."),
                **NUMBER_FIELDS,
            },
            required=("PhoneNumber",),
        ),
        body_required=True,
        errors=(400, 404, 409, 415),
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

    @operation(
        "FetchIncomingPhoneNumber",
        "One of your numbers.",
        API_2010,
        {200: resource("The number.", NUMBER)},
        parameters=(ACCOUNT_SID, path_sid("sid", "PN", "IncomingPhoneNumber")),
        errors=(404,),
    )
    def get(self, request, account_sid, sid):
        return Response(serializers.incoming_phone_number(self.number(sid)))

    @operation(
        "UpdateIncomingPhoneNumber",
        "Change a number's name and webhooks.",
        API_2010,
        {200: resource("Updated.", NUMBER)},
        parameters=(ACCOUNT_SID, path_sid("sid", "PN", "IncomingPhoneNumber")),
        body=form(NUMBER_FIELDS),
        errors=(400, 404, 415),
    )
    def post(self, request, account_sid, sid):
        number = services.update_phone_number(phone_number=self.number(sid), **phone_number_fields(request.data))
        return Response(serializers.incoming_phone_number(number))

    @operation(
        "DeleteIncomingPhoneNumber",
        "Remove a number.",
        API_2010,
        DELETED,
        parameters=(ACCOUNT_SID, path_sid("sid", "PN", "IncomingPhoneNumber")),
        errors=(404,),
    )
    def delete(self, request, account_sid, sid):
        services.delete_phone_number(phone_number=self.number(sid))
        return Response(status=status.HTTP_204_NO_CONTENT)
