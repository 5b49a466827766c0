"""Resources as the wire shows them (snake_case JSON, Twilio's field names)."""

from django.urls import reverse

from marketplace.api.formats import absolute_url, iso8601, rfc2822


def available_add_on(listing):
    return {
        "sid": listing.sid,
        "friendly_name": listing.friendly_name,
        "description": listing.description,
        "pricing_type": listing.pricing_type,
        "configuration_schema": listing.latest_version.configuration_schema,
        "url": absolute_url(reverse("available_add_on_detail", kwargs={"sid": listing.sid})),
        "links": {
            "extensions": absolute_url(reverse("available_add_on_extension_list", kwargs={"listing_sid": listing.sid}))
        },
    }


def available_add_on_extension(extension, listing):
    return {
        "sid": extension.sid,
        "available_add_on_sid": listing.sid,
        "friendly_name": extension.friendly_name,
        "product_name": extension.product_name,
        "unique_name": extension.unique_name,
        "url": absolute_url(
            reverse("available_add_on_extension_detail", kwargs={"listing_sid": listing.sid, "sid": extension.sid})
        ),
    }


def installed_add_on(installation):
    return {
        "sid": installation.sid,
        "account_sid": installation.account.sid,
        "friendly_name": installation.listing.friendly_name,
        "description": installation.listing.description,
        "configuration": installation.configuration,
        "unique_name": installation.unique_name,
        "date_created": iso8601(installation.date_created),
        "date_updated": iso8601(installation.date_updated),
        "url": absolute_url(reverse("installed_add_on_detail", kwargs={"sid": installation.sid})),
        "links": {
            "extensions": absolute_url(
                reverse("installed_add_on_extension_list", kwargs={"installation_sid": installation.sid})
            ),
            "available_add_on": absolute_url(
                reverse("available_add_on_detail", kwargs={"sid": installation.listing.sid})
            ),
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
        "url": absolute_url(
            reverse(
                "installed_add_on_extension_detail", kwargs={"installation_sid": installation.sid, "sid": extension.sid}
            )
        ),
    }


def assigned_add_on_kwargs(assignment):
    """The URL kwargs naming an assignment: its number's account and SID, and the installation's."""
    number = assignment.phone_number
    return {"account_sid": number.account.sid, "resource_sid": number.sid, "assigned_sid": assignment.installation.sid}


def assigned_add_on(assignment):
    installation = assignment.installation
    kwargs = assigned_add_on_kwargs(assignment)
    detail = {"account_sid": kwargs["account_sid"], "resource_sid": kwargs["resource_sid"], "sid": installation.sid}
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
        "uri": reverse("assigned_add_on_detail", kwargs=detail),
        "subresource_uris": {"extensions": reverse("assigned_add_on_extension_list", kwargs=kwargs)},
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
        "uri": reverse(
            "assigned_add_on_extension_detail", kwargs={**assigned_add_on_kwargs(assignment), "sid": extension.sid}
        ),
        "enabled": installed_extension.enabled,
    }
