import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.selectors import ensure_may_act
from addons import selectors
from addons.configuration import reserved_settings, validated_configuration
from addons.models import InstalledAddOn, InstalledExtension
from marketplace import outbound
from marketplace.errors import Conflict, InvalidParameter

# Used as `AddOns.<unique_name>.<field>` by Lookups, so no dots or spaces.
UNIQUE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _checked_unique_name(account, unique_name, *, exclude_id=None):
    if not UNIQUE_NAME_RE.match(unique_name):
        raise InvalidParameter("Parameter 'UniqueName' must be 1 to 64 letters, digits, '_' or '-'", param="UniqueName")
    taken = InstalledAddOn.objects.filter(account=account, unique_name=unique_name)
    if exclude_id is not None:
        taken = taken.exclude(id=exclude_id)
    if taken.exists():
        raise Conflict(f"Parameter 'UniqueName': {unique_name} is already used in this account", param="UniqueName")
    return unique_name


def _check_callback(configuration):
    """A recording installation's callback_url is a customer URL we will call: same rules."""
    if configuration.get("callback_url"):
        outbound.check_url(configuration["callback_url"], param="Configuration.callback_url")


def _free_unique_name(account, base):
    used = set(
        InstalledAddOn.objects.filter(account=account, unique_name__startswith=base).values_list(
            "unique_name", flat=True
        )
    )
    if base not in used:
        return base
    n = 2
    while f"{base}_{n}" in used:
        n += 1
    return f"{base}_{n}"


def _save_unique(instance, unique_name):
    # The constraint is the last word when two requests race for one name.
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise Conflict(f"Parameter 'UniqueName': {unique_name} is already used in this account", param="UniqueName")


@transaction.atomic
def install_add_on(*, account, available_add_on_sid, accept_terms_of_service, configuration=None, unique_name=None):
    """Install the listing's current version for the account, after the terms are accepted."""
    ensure_may_act(account, refused="it cannot install add-ons")
    listing = selectors.available_listing(account, available_add_on_sid, param="AvailableAddOnSid")
    if accept_terms_of_service is not True:
        raise InvalidParameter(
            "Parameter 'AcceptTermsOfService' must be true to install an add-on", param="AcceptTermsOfService"
        )
    version = listing.latest_version
    config = validated_configuration(
        version.configuration_schema, configuration or {}, reserved=reserved_settings(listing.type)
    )
    _check_callback(config)
    if unique_name is None:
        unique_name = _free_unique_name(account, listing.unique_name)
    else:
        _checked_unique_name(account, unique_name)
    installation = InstalledAddOn(
        account=account,
        listing=listing,
        version=version,
        unique_name=unique_name,
        configuration=config,
        terms_accepted_at=timezone.now(),
    )
    _save_unique(installation, unique_name)
    InstalledExtension.objects.bulk_create(
        InstalledExtension(installation=installation, extension=extension) for extension in version.extensions.all()
    )
    return installation


@transaction.atomic
def update_installation(*, installation, configuration=None, unique_name=None):
    """Replace the configuration and/or rename; the version stays pinned."""
    if configuration is not None:
        installation.configuration = validated_configuration(
            installation.version.configuration_schema,
            configuration,
            reserved=reserved_settings(installation.listing.type),
        )
        _check_callback(installation.configuration)
    if unique_name is not None and unique_name != installation.unique_name:
        installation.unique_name = _checked_unique_name(installation.account, unique_name, exclude_id=installation.id)
    _save_unique(installation, installation.unique_name)
    return installation


@transaction.atomic
def uninstall_add_on(*, installation):
    """Remove the installation with its extensions and phone number assignments."""
    installation.delete()


@transaction.atomic
def set_extension_enabled(*, installed_extension, enabled):
    installed_extension.enabled = bool(enabled)
    installed_extension.save(update_fields=["enabled"])
    # The parent's date_updated records that its configuration changed.
    installed_extension.installation.save(update_fields=["date_updated"])
    return installed_extension
