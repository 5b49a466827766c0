"""Lookups v1: GET /v1/PhoneNumbers/{PhoneNumber} with AddOns and AddOnsData."""

import phonenumbers
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from addons import selectors
from invocation import engine
from invocation.carrier import carrier_of
from marketplace.api import params
from marketplace.api.formats import absolute_url
from marketplace.api.openapi import LOOKUP, operation, query, resource
from marketplace.api.views import AccountAPIView
from marketplace.errors import InvalidParameter, NotFound

ADD_ONS_DATA_PREFIX = "AddOns."
LOOKUP_TYPES = {"carrier", "caller-name"}


class PhoneNumberLookup(AccountAPIView):
    @operation(
        "FetchPhoneNumber",
        "Look a number up, running the named add-ons on it.",
        "Lookups v1",
        {200: resource("The number, with `add_ons` when AddOns was given.", LOOKUP)},
        parameters=(
            OpenApiParameter(
                "phone_number",
                type=str,
                location=OpenApiParameter.PATH,
                description="E.164, or national with CountryCode; a number that is not valid answers 404.",
            ),
            query(
                "CountryCode", {"type": "string", "minLength": 2, "maxLength": 2}, "ISO 3166-1 alpha-2; US by default."
            ),
            query(
                "Type",
                {"type": "array", "items": {"type": "string", "enum": ["carrier", "caller-name"]}},
                "`carrier`: the operator the number's range was allocated to and its line type (mobile, landline, "
                "voip), from the phonenumbers library's data; `caller-name` is accepted and stays null (no owner data).",
                style="form",
                explode=True,
            ),
            query(
                "AddOns",
                {"type": "array", "items": {"type": "string"}},
                "Unique names of installed add-ons to run; repeat the parameter for several.",
                style="form",
                explode=True,
            ),
            query(
                "AddOnsData",
                {"type": "object", "additionalProperties": {"type": "string"}},
                "Runtime data for the add-ons, sent as `AddOns.<unique name>.<field>=value` (the SDK's "
                "add_ons_data); the add-on must be listed in AddOns.",
                style="form",
                explode=True,
            ),
        ),
        errors=(400, 404),
    )
    def get(self, request, phone_number):
        query = request.query_params
        number = _parse_number(phone_number, params.string(query, "CountryCode"))
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        names = list(dict.fromkeys(query.getlist("AddOns")))
        types = set(query.getlist("Type"))
        if not types <= LOOKUP_TYPES:
            raise InvalidParameter("Parameter 'Type' must be carrier or caller-name", param="Type")
        body = {
            "caller_name": None,
            "country_code": phonenumbers.region_code_for_number(number),
            "phone_number": e164,
            "national_format": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
            # caller-name stays null: no offline data names a number's owner (see docs/api.md).
            "carrier": carrier_of(number) if "carrier" in types else None,
            "add_ons": None,
            "url": absolute_url(reverse("phone_number_lookup", kwargs={"phone_number": e164})),
        }
        if names:
            body["add_ons"] = lookup_add_ons(self.account, names, e164, _add_ons_data(query, names))
        return Response(body)


def lookup_add_ons(account, names, e164, runtime):
    installed = selectors.installations_named(account, names, "lookups")
    planned = []
    for name in names:
        installation, enabled = installed.get(name, (None, None))
        planned.append(engine.plan(installation, extension_enabled=enabled, unique_name=name))
    results = engine.invoke(
        account=account,
        planned=planned,
        integration_point="lookups",
        inputs={"primary_address": e164},
        runtime=runtime,
    )
    return engine.add_ons_object(results)


def _parse_number(value, country_code):
    """The number as Lookups reads it: E.164, or national with CountryCode (default US)."""
    if country_code is not None and len(country_code) != 2:
        raise InvalidParameter("Parameter 'CountryCode' must be an ISO 3166-1 alpha-2 code", param="CountryCode")
    try:
        number = phonenumbers.parse(value, (country_code or "US").upper())
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise NotFound(f"The requested resource /PhoneNumbers/{value} was not found")
    return number


def _add_ons_data(query, names):
    """`AddOns.<unique_name>.<field>=value` pairs, as the SDK sends add_ons_data."""
    data = {}
    for key in query:
        if not key.startswith(ADD_ONS_DATA_PREFIX):
            continue
        name, dot, field = key[len(ADD_ONS_DATA_PREFIX) :].partition(".")
        if not dot or not field:
            raise InvalidParameter(
                f"Parameter '{key}' must look like AddOns.<add-on unique name>.<field>", param="AddOnsData"
            )
        if name not in names:
            raise InvalidParameter(f"Parameter '{key}' names an add-on not listed in AddOns", param="AddOnsData")
        data.setdefault(name, {})[field] = params.string(query, key)
    return data
