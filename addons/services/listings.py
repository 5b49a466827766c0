"""The publisher API's writes and reads on catalog content (Twilio's module data, /v1/Listings).

A publisher may create a listing shell before its first manifest: it has a unique name, a
friendly name and catalog sections, but no type, pricing or version until `import_listing`
releases version 1 under the same unique name. Each section (module_info, description,
documentation, policies, support, configuration, pricing) is a JSON object, stored in
`Listing.content` and replaced as a whole when given.
"""

import json
import re
import unicodedata

from django.db import IntegrityError, transaction

from addons.models import Listing
from marketplace import codes
from marketplace.errors import Conflict, InvalidParameter, MarketplaceError, NotFound

# API parameter -> key of Listing.content (and of the response object).
SECTIONS = {
    "ModuleInfo": "module_info",
    "Description": "description",
    "Documentation": "documentation",
    "Policies": "policies",
    "Support": "support",
    "Configuration": "configuration",
    "Pricing": "pricing",
}
# Twilio's limit for Policies ("The maximum file size for Policies is 5MB"), as compact UTF-8 JSON.
MAX_POLICIES_BYTES = 5 * 1024 * 1024
# The manifest's rule for a listing's unique name (addons/manifest.schema.json).
UNIQUE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}\Z")
FRIENDLY_NAME_MAX = Listing._meta.get_field("friendly_name").max_length


class NotAPublisher(MarketplaceError):
    """Only publisher accounts may create listings."""

    code = codes.FORBIDDEN
    status = 403


# Reads ----------------------------------------------------------------------------------------


def publisher_listings(account):
    """The listings this account publishes, drafts and shells included."""
    return Listing.objects.filter(publisher=account).order_by("id")


def publisher_listing(account, sid):
    """One of the account's own listings; another account's answers NotFound, as a missing one."""
    listing = publisher_listings(account).filter(sid=sid).first()
    if listing is None:
        raise NotFound(f"Listing {sid} was not found")
    return listing


# Writes ---------------------------------------------------------------------------------------


@transaction.atomic
def create_listing(*, publisher, module_info, configuration=None) -> Listing:
    """A draft listing shell owned by the publisher; a manifest releases its first version.

    `module_info` needs a `name` (the friendly name); its `unique_name` defaults to the name's
    slug, numbered when taken, and is written back into the stored module_info.
    """
    if not publisher.is_publisher:
        raise NotAPublisher(f"Account {publisher.sid} is not a publisher account; only publishers create listings")
    if module_info is None:
        raise InvalidParameter("Required parameter 'ModuleInfo' is missing", param="ModuleInfo")
    sections = _checked_sections({"ModuleInfo": module_info, "Configuration": configuration})
    info = sections["module_info"]
    if "unique_name" in info:
        unique_name = info["unique_name"]
        if Listing.objects.filter(unique_name=unique_name).exists():
            raise _name_taken(unique_name)
    else:
        unique_name = _free_unique_name(_slug(info["name"]))
    sections["module_info"] = {**info, "unique_name": unique_name}
    listing = Listing(
        publisher=publisher,
        unique_name=unique_name,
        friendly_name=info["name"].strip(),
        description=info.get("description", ""),
        content=sections,
    )
    try:
        # The unique constraint is the last word when two requests race for one name.
        with transaction.atomic():
            listing.save()
    except IntegrityError:
        raise _name_taken(unique_name)
    return listing


@transaction.atomic
def update_listing_content(*, listing, **sections):
    """Replace the given sections (keyword per content key, a dict or None for "not given").

    Returns `(listing, changed)`; nothing is written, not even date_updated, when every given
    section equals what is stored (or none is given).
    """
    unknown = set(sections) - set(SECTIONS.values())
    if unknown:
        raise TypeError(f"unknown sections: {', '.join(sorted(unknown))}")
    by_param = {param: sections.get(key) for param, key in SECTIONS.items()}
    given = _checked_sections(by_param)
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    if "module_info" in given:
        info = given["module_info"]
        if info.get("unique_name", listing.unique_name) != listing.unique_name:
            raise InvalidParameter(
                f"Parameter 'ModuleInfo': unique_name cannot change (it is {listing.unique_name})",
                param="ModuleInfo",
            )
        given["module_info"] = {**info, "unique_name": listing.unique_name}
    content = dict(listing.content or {})
    changed = {key: value for key, value in given.items() if _canonical(content.get(key)) != _canonical(value)}
    if not changed:
        return listing, False
    content.update(changed)
    listing.content = content
    if "module_info" in changed:
        info = changed["module_info"]
        listing.friendly_name = info["name"].strip()
        if "description" in info:
            listing.description = info["description"]
    listing.save(update_fields=["content", "friendly_name", "description", "date_updated"])
    return listing, True


# Helpers --------------------------------------------------------------------------------------


def _checked_sections(by_param):
    """{content key: section} for the sections given (not None), each checked."""
    checked = {}
    for param, value in by_param.items():
        if value is None:
            continue
        if not isinstance(value, dict):
            raise InvalidParameter(f"Parameter '{param}' must be a JSON object", param=param)
        if param == "Policies" and len(_canonical(value).encode("utf-8")) > MAX_POLICIES_BYTES:
            raise InvalidParameter("Parameter 'Policies' is larger than 5 MB", param=param)
        if param == "ModuleInfo":
            _check_module_info(value)
        checked[SECTIONS[param]] = value
    return checked


def _check_module_info(info):
    name = info.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter("Parameter 'ModuleInfo' must have a non-empty string 'name'", param="ModuleInfo")
    if len(name.strip()) > FRIENDLY_NAME_MAX:
        raise InvalidParameter(
            f"Parameter 'ModuleInfo': 'name' is longer than {FRIENDLY_NAME_MAX} characters", param="ModuleInfo"
        )
    if "unique_name" in info and not (
        isinstance(info["unique_name"], str) and UNIQUE_NAME_RE.match(info["unique_name"])
    ):
        raise InvalidParameter(
            "Parameter 'ModuleInfo': 'unique_name' must be 2 to 64 lowercase letters, digits, '_' and '-', "
            "starting with a letter or digit",
            param="ModuleInfo",
        )
    if "description" in info and not isinstance(info["description"], str):
        raise InvalidParameter("Parameter 'ModuleInfo': 'description' must be a string", param="ModuleInfo")


def _canonical(value):
    """One spelling per JSON value, so `true` and `1` (equal in Python) stay different."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _slug(name):
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:64].rstrip("_")
    return slug if UNIQUE_NAME_RE.match(slug) else "listing"


def _free_unique_name(base):
    """`base`, else `base_2`, `base_3`...: the first not taken, cut to fit 64 characters."""
    # Every candidate shares the first 50 characters of `base`: one query.
    used = set(Listing.objects.filter(unique_name__startswith=base[:50]).values_list("unique_name", flat=True))
    candidate, n = base, 1
    while candidate in used:
        n += 1
        suffix = f"_{n}"
        candidate = base[: 64 - len(suffix)].rstrip("_") + suffix
    return candidate


def _name_taken(unique_name):
    return Conflict(f"Parameter 'ModuleInfo': the listing name {unique_name} is taken", param="ModuleInfo")
