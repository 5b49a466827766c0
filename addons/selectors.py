"""Reads on the catalog and installations: what an account may see, and nothing else."""

from django.db.models import Q

from accounts.selectors import acting, phone_numbers
from addons.models import Assignment, Extension, InstalledAddOn, InstalledExtension, Listing, Notification
from marketplace.errors import NotFound
from marketplace.selectors import one


def available_listings(account):
    """Listings this account may install: active ones, and private betas it is allowed into,
    of publishers that may act (a suspended publisher's listings leave the catalog)."""
    beta_ids = Listing.beta_accounts.through.objects.filter(account_id=account.id).values("listing_id")
    return (
        Listing.objects.filter(latest_version__isnull=False)
        .filter(Q(state=Listing.State.ACTIVE) | Q(state=Listing.State.PRIVATE_BETA, id__in=beta_ids))
        .filter(acting("publisher"))
        .select_related("latest_version")
    )


# What the AvailableAddOn resource shows: no manifests, endpoints or catalog sections,
# which are large JSON a list page would decode for nothing.
AVAILABLE_ADD_ON_FIELDS = (
    "id",
    "sid",
    "friendly_name",
    "description",
    "pricing_type",
    "state",
    "latest_version__configuration_schema",
)


def available_add_ons(account):
    """available_listings, reading only what the API's AvailableAddOn shows."""
    return available_listings(account).only(*AVAILABLE_ADD_ON_FIELDS)


def available_listing(account, sid, *, param=None):
    return one(available_listings(account), sid, "AvailableAddOn", param=param)


def catalog(account, *, text="", add_on_type=None, integration_point=None, pricing=None):
    """available_listings as the console's catalog filters them (each filter optional)."""
    listings = available_listings(account).select_related("publisher").order_by("friendly_name")
    if text:
        listings = listings.filter(friendly_name__icontains=text) | listings.filter(description__icontains=text)
    if add_on_type:
        listings = listings.filter(type=add_on_type)
    if integration_point:
        listings = listings.filter(latest_version__extensions__unique_name=integration_point)
    if pricing:
        listings = listings.filter(pricing_type=pricing)
    return listings.distinct()


def own_listings(publisher):
    """A publisher's own listings, in every state."""
    return Listing.objects.filter(publisher=publisher).select_related("publisher", "latest_version")


def own_listing(publisher, sid):
    return one(own_listings(publisher), sid, "Listing")


def versions(listing):
    """A listing's versions, the newest first."""
    return listing.versions.order_by("-number").prefetch_related("extensions")


def version(listing, sid, *, param=None):
    found = listing.versions.filter(sid=sid).first()
    if found is None:
        prefix = f"Parameter '{param}': " if param else ""
        raise NotFound(f"{prefix}version {sid} of this listing was not found", param=param)
    return found


def available_extensions(listing):
    """The integration points of the listing's current version."""
    return Extension.objects.filter(versions=listing.latest_version_id)


def available_extension(listing, sid):
    return one(available_extensions(listing), sid, "Extension")


def installations(account, *, listing=None):
    found = InstalledAddOn.objects.filter(account=account).select_related("listing", "account")
    return found if listing is None else found.filter(listing=listing).order_by("id")


def installation(account, sid, *, param=None):
    return one(installations(account), sid, "InstalledAddOn", param=param)


def installed_extensions(installation):
    return InstalledExtension.objects.filter(installation=installation).select_related("extension")


def installed_extension(installation, sid):
    found = installed_extensions(installation).filter(extension__sid=sid).first()
    if found is None:
        raise NotFound(f"Extension {sid} was not found")
    return found


def assignments(phone_number):
    return Assignment.objects.filter(phone_number=phone_number).select_related(
        "installation", "installation__listing", "phone_number", "phone_number__account"
    )


def assignment(phone_number, installation_sid):
    found = assignments(phone_number).filter(installation__sid=installation_sid).first()
    if found is None:
        raise NotFound(f"AssignedAddOn {installation_sid} was not found")
    return found


def assignment_to(installation, phone_number_sid):
    """The installation's assignment to one of its account's numbers, by the number's SID."""
    found = installation.assignments.select_related("phone_number").filter(phone_number__sid=phone_number_sid).first()
    if found is None:
        raise NotFound(f"AssignedAddOn {phone_number_sid} was not found")
    return found


def numbers_assigned_or_not(installation):
    """The installation's account's numbers (by number): (assigned to it, the others)."""
    assigned = set(Assignment.objects.filter(installation=installation).values_list("phone_number_id", flat=True))
    numbers = phone_numbers(installation.account).order_by("phone_number")
    return [n for n in numbers if n.id in assigned], [n for n in numbers if n.id not in assigned]


def alerts(account, *, level=None):
    """The account's debugger alerts, the newest first; of one log level if `level`."""
    found = Notification.objects.filter(account=account).select_related("account").order_by("-id")
    return found if level is None else found.filter(log_level=level)


def alert(account, sid):
    return one(alerts(account), sid, "Alert")


_INVOCABLE = ("listing", "listing__publisher", "version")


def installations_named(account, unique_names, integration_point):
    """The account's installations by unique name, each with whether its extension for this
    integration point is on (None: the add-on has no such extension). One query, usually."""
    rows = InstalledExtension.objects.filter(
        installation__account=account,
        installation__unique_name__in=unique_names,
        extension__unique_name=integration_point,
    ).select_related(*(f"installation__{name}" for name in _INVOCABLE))
    found = {row.installation.unique_name: (row.installation, row.enabled) for row in rows}
    if missing := set(unique_names) - set(found):  # not installed, or no such extension
        for installation in InstalledAddOn.objects.filter(account=account, unique_name__in=missing).select_related(
            *_INVOCABLE
        ):
            found[installation.unique_name] = (installation, None)
    return found


def installations_for_inbound(phone_number, integration_point):
    """What runs on this number's inbound traffic: the add-ons assigned to it, and those
    assigned to no number at all (account-wide), with this integration point switched on."""
    assigned = Assignment.objects.filter(phone_number=phone_number).values("installation_id")
    assigned_anywhere = Assignment.objects.filter(installation__account=phone_number.account_id).values(
        "installation_id"
    )
    enabled = InstalledExtension.objects.filter(extension__unique_name=integration_point, enabled=True).values(
        "installation_id"
    )
    found = InstalledAddOn.objects.filter(account=phone_number.account_id, id__in=enabled).filter(
        Q(id__in=assigned) | ~Q(id__in=assigned_anywhere)
    )
    return list(found.select_related(*_INVOCABLE).order_by("id"))
