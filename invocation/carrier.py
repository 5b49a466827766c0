"""Lookups' `Type=carrier`, served from the `phonenumbers` library's own data, offline.

What that data can tell honestly: the operator the number's range was allocated to (not the
one it may since have been ported to) and the kind of line the range is for. Mobile country and
network codes are not in it, so they stay null; a range that is fixed-line *or* mobile (all of
North America) has no type.
"""

import phonenumbers
from phonenumbers import PhoneNumberType, carrier

TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.VOIP: "voip",
}


def carrier_of(number):
    """The Lookups v1 `carrier` object of a parsed, valid number."""
    return {
        "mobile_country_code": None,
        "mobile_network_code": None,
        "name": carrier.name_for_number(number, "en") or None,
        "type": TYPES.get(phonenumbers.number_type(number)),
        "error_code": None,
    }
