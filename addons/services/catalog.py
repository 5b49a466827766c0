from django.db import transaction
from django.db.models import Max

from addons import credentials
from addons.manifest import validate_manifest
from addons.models import INTEGRATION_POINTS, BillableItem, Extension, Listing, ListingStateChange, ListingVersion
from marketplace import outbound
from marketplace.errors import Conflict, InvalidManifest, InvalidParameter


@transaction.atomic
def import_listing(*, manifest, publisher, state=None) -> ListingVersion:
    """Create the listing a manifest describes, or release a new version of it.

    Installations stay pinned to the version they were made with; new ones get this one.
    """
    data = validate_manifest(manifest)
    _check_endpoint(data["endpoint"]["url"])
    if not publisher.is_publisher:
        raise InvalidParameter(f"Account {publisher.sid} is not a publisher account", param="publisher")
    if state is not None and state not in Listing.State.values:
        raise InvalidParameter(f"State must be one of {', '.join(Listing.State.values)}", param="state")

    listing = Listing.objects.select_for_update().filter(unique_name=data["unique_name"]).first()
    if listing is None:
        listing = Listing(unique_name=data["unique_name"], publisher=publisher, type=data["type"])
    elif listing.publisher_id != publisher.id:
        raise Conflict(f"The listing name {data['unique_name']} is taken", param="unique_name")
    elif listing.type and listing.type != data["type"]:  # blank: a shell from the publisher API
        raise Conflict(
            f"Listing {listing.unique_name} is a {listing.type} add-on; a version cannot change its type",
            param="type",
        )
    listing.type = data["type"]
    listing.friendly_name = data["friendly_name"]
    listing.description = data["description"]
    listing.pricing_type = data["pricing"]["model"]
    previous_state = listing.state
    if state is not None:
        # Set directly (the CLI's --state), outside the moderation rules; logged all the same.
        listing.state = state
    listing.save()
    if listing.state != previous_state:
        ListingStateChange.objects.create(
            listing=listing, from_state=previous_state, to_state=listing.state, reason="set at import"
        )

    extensions = [_extension(listing, name) for name in data["extensions"]]
    for item in data["billable_items"]:
        BillableItem.objects.get_or_create(listing=listing, name=item["name"])
    number = (listing.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ListingVersion.objects.create(
        listing=listing,
        number=number,
        configuration_schema=data["configuration_schema"],
        request_validation_schema=data["request_validation_schema"],
        response_validation_schema=data["response_validation_schema"],
        endpoint=credentials.seal_endpoint(data["endpoint"]),
        # The version's prices are a snapshot: items keep their SIDs, prices may change.
        pricing={
            **data["pricing"],
            "billable_items": {i["name"]: i["price"] for i in data["billable_items"]},
            **_item_limits(data["billable_items"]),
        },
        runtime_fields=data["runtime_fields"],
        manifest=credentials.seal_manifest(manifest),
    )
    version.extensions.set(extensions)
    listing.latest_version = version
    listing.save(update_fields=["latest_version", "date_updated"])
    return version


def _item_limits(items):
    """The caps a manifest declares on its billable items, kept with the version's prices."""
    limits = {
        item["name"]: {key: item[key] for key in ("max_per_report", "max_per_day") if key in item}
        for item in items
        if "max_per_report" in item or "max_per_day" in item
    }
    return {"item_limits": limits} if limits else {}


def _check_endpoint(url):
    try:
        outbound.check_url(url, param="endpoint.url")
    except InvalidParameter as error:
        raise InvalidManifest(
            "Listing manifest is invalid", details=[{"path": "$.endpoint.url", "message": error.message}]
        )


def _extension(listing, unique_name):
    product_name, friendly_name = INTEGRATION_POINTS[unique_name]
    extension, _ = Extension.objects.get_or_create(
        listing=listing,
        unique_name=unique_name,
        defaults={"product_name": product_name, "friendly_name": friendly_name},
    )
    return extension
