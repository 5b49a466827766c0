import phonenumbers
from django.urls import reverse

from marketplace.api.formats import rfc2822

_NUMBER_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll-free",
    phonenumbers.PhoneNumberType.FIXED_LINE: "local",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "local",
}


def number_type(e164):
    """Twilio's `type`: local, mobile or toll-free (read from the numbering plan)."""
    kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    return _NUMBER_TYPES.get(kind, "local")


def incoming_phone_number_path(number):
    return reverse("incoming_phone_number_detail", kwargs={"account_sid": number.account.sid, "sid": number.sid})


def incoming_phone_number(number):
    path = incoming_phone_number_path(number)
    return {
        "account_sid": number.account.sid,
        "address_sid": None,
        "address_requirements": "none",
        "api_version": "2010-04-01",
        "beta": False,
        "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
        "date_created": rfc2822(number.date_created),
        "date_updated": rfc2822(number.date_updated),
        "friendly_name": number.friendly_name,
        "identity_sid": None,
        "phone_number": number.phone_number,
        # The customer brings the number; the platform only routes its traffic.
        "origin": "hosted",
        "sid": number.sid,
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": number.sms_method,
        "sms_url": number.sms_url,
        "status_callback": "",
        "status_callback_method": "POST",
        "trunk_sid": None,
        "uri": path,
        "voice_receive_mode": "voice",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": "",
        "voice_method": number.voice_method,
        "voice_url": number.voice_url,
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "bundle_sid": None,
        "status": "in-use",
        "type": number_type(number.phone_number),
        "subresource_uris": {
            "assigned_add_ons": reverse(
                "assigned_add_on_list", kwargs={"account_sid": number.account.sid, "resource_sid": number.sid}
            )
        },
    }
