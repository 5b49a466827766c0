"""Every write on the catalog and on installations. Keyword-only, one transaction each."""

from addons.services.assignments import assign_add_on, unassign_add_on
from addons.services.catalog import import_listing
from addons.services.installations import (
    install_add_on,
    set_extension_enabled,
    uninstall_add_on,
    update_installation,
)
from addons.services.moderation import set_listing_state

__all__ = [
    "assign_add_on",
    "import_listing",
    "install_add_on",
    "set_extension_enabled",
    "set_listing_state",
    "unassign_add_on",
    "uninstall_add_on",
    "update_installation",
]
