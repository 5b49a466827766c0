"""Resources as the wire shows them (snake_case JSON, Twilio's field names)."""

from marketplace.api.formats import absolute_url, iso8601, rfc2822

V1 = "/v1"
API_2010 = "/2010-04-01"


def available_add_on_path(listing_sid):
    return f"{V1}/AvailableAddOns/{listing_sid}"


def installed_add_on_path(installation_sid):
    return f"{V1}/InstalledAddOns/{installation_sid}"


def available_add_on(listing):
    path = available_add_on_path(listing.sid)
    return {
        "sid": listing.sid,
        "friendly_name": listing.friendly_name,
        "description": listing.description,
        "pricing_type": listing.pricing_type,
        "configuration_schema": listing.latest_version.configuration_schema,
        "url": absolute_url(path),
        "links": {"extensions": absolute_url(f"{path}/Extensions")},
    }


def available_add_on_extension(extension, listing):
    return {
        "sid": extension.sid,
        "available_add_on_sid": listing.sid,
        "friendly_name": extension.friendly_name,
        "product_name": extension.product_name,
        "unique_name": extension.unique_name,
        "url": absolute_url(f"{available_add_on_path(listing.sid)}/Extensions/{extension.sid}"),
    }


def installed_add_on(installation):
    path = installed_add_on_path(installation.sid)
    return {
        "sid": installation.sid,
        "account_sid": installation.account.sid,
        "friendly_name": installation.listing.friendly_name,
        "description": installation.listing.description,
        "configuration": installation.configuration,
        "unique_name": installation.unique_name,
        "date_created": iso8601(installation.date_created),
        "date_updated": iso8601(installation.date_updated),
        "url": absolute_url(path),
        "links": {
            "extensions": absolute_url(f"{path}/Extensions"),
            "available_add_on": absolute_url(available_add_on_path(installation.listing.sid)),
        },
    }


def installed_add_on_extension(installed_extension, installation):
    extension = installed_extension.extension
    return {
        "sid": extension.sid,
        "installed_add_on_sid": installation.sid,
        "friendly_name": extension.friendly_name,
        "product_name": extension.product_name,
        "unique_name": extension.unique_name,
        "enabled": installed_extension.enabled,
        "url": absolute_url(f"{installed_add_on_path(installation.sid)}/Extensions/{extension.sid}"),
    }


def assigned_add_on_path(assignment):
    number = assignment.phone_number
    return (
        f"{API_2010}/Accounts/{number.account.sid}/IncomingPhoneNumbers/{number.sid}"
        f"/AssignedAddOns/{assignment.installation.sid}"
    )


def assigned_add_on(assignment):
    installation = assignment.installation
    path = assigned_add_on_path(assignment)
    return {
        "sid": installation.sid,
        "account_sid": assignment.phone_number.account.sid,
        "resource_sid": assignment.phone_number.sid,
        "friendly_name": installation.listing.friendly_name,
        "description": installation.listing.description,
        "configuration": installation.configuration,
        "unique_name": installation.unique_name,
        "date_created": rfc2822(assignment.date_created),
        "date_updated": rfc2822(assignment.date_updated),
        "uri": f"{path}.json",
        "subresource_uris": {"extensions": f"{path}/Extensions.json"},
    }


def assigned_add_on_extension(installed_extension, assignment):
    extension = installed_extension.extension
    return {
        "sid": extension.sid,
        "account_sid": assignment.phone_number.account.sid,
        "resource_sid": assignment.phone_number.sid,
        "assigned_add_on_sid": assignment.installation.sid,
        "friendly_name": extension.friendly_name,
        "product_name": extension.product_name,
        "unique_name": extension.unique_name,
        "uri": f"{assigned_add_on_path(assignment)}/Extensions/{extension.sid}.json",
        "enabled": installed_extension.enabled,
    }
