"""Marketplace v1 publisher API for catalog content: /v1/Listings and /v1/Listing/{XB}.

Twilio's ModuleData (list: the caller's own listings; create: a listing shell) and
ModuleDataManagement (fetch and update the catalog sections of one's own listing).
"""

from django.http import QueryDict
from django.urls import reverse
from rest_framework import status
from rest_framework.parsers import BaseParser, get_encoding
from rest_framework.response import Response

from addons.services import listings as service
from marketplace import codes
from marketplace.api import params
from marketplace.api.formats import absolute_url
from marketplace.api.openapi import (
    LISTING_SECTIONS,
    MODULE,
    PUBLISHERS,
    form,
    json_object_param,
    operation,
    path_sid,
    ref,
    resource,
)
from marketplace.api.views import PublisherAPIView
from marketplace.errors import MarketplaceError

# Policies alone may be 5 MB of JSON, which form-encoding can triple; DRF's FormParser holds
# every body to DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), so updates get a parser of their own.
MAX_UPDATE_BODY_BYTES = 16 * 1024 * 1024


class RequestTooLarge(MarketplaceError):
    code = codes.INVALID_PARAMETER
    status = 413


class CatalogFormParser(BaseParser):
    """Form-encoded bodies up to MAX_UPDATE_BODY_BYTES (this endpoint takes nothing else)."""

    media_type = "application/x-www-form-urlencoded"

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read(MAX_UPDATE_BODY_BYTES + 1)
        if len(body) > MAX_UPDATE_BODY_BYTES:
            raise RequestTooLarge(f"Request body is larger than {MAX_UPDATE_BODY_BYTES // (1024 * 1024)} MB")
        return QueryDict(body, encoding=get_encoding(parser_context or {}))


def listing_path(sid):
    return reverse("listing_detail", kwargs={"sid": sid})


def module_data_management(listing):
    """The spec's marketplace.v1.module_data_management: a section never set is null."""
    content = listing.content or {}
    return {
        "url": absolute_url(listing_path(listing.sid)),
        "sid": listing.sid,
        "description": content.get("description"),
        "support": content.get("support"),
        "policies": content.get("policies"),
        "module_info": content.get("module_info"),
        "documentation": content.get("documentation"),
        "configuration": content.get("configuration"),
        "pricing": content.get("pricing"),
    }


class ListingList(PublisherAPIView):
    @operation(
        "ListModuleData",
        "Your own listings' catalog content.",
        PUBLISHERS,
        {
            200: (
                "Every listing of the calling publisher.",
                {
                    "type": "object",
                    "required": ["listings"],
                    "properties": {"listings": {"type": "array", "items": ref(MODULE)}},
                },
            )
        },
    )
    def get(self, request):
        listings = service.publisher_listings(self.account)
        return Response({"listings": [module_data_management(listing) for listing in listings]})

    @operation(
        "CreateModuleData",
        "Create a listing shell from its catalog content.",
        PUBLISHERS,
        {200: resource("The new listing.", MODULE)},
        body=form(
            {
                "ModuleInfo": json_object_param("The listing's essentials: name (required), description, ..."),
                "Configuration": json_object_param("Listing-specific configuration."),
            },
            required=("ModuleInfo",),
        ),
        body_required=True,
        errors=(400, 409, 415),
        description="403 (20403) when the calling account is not a publisher.",
    )
    def post(self, request):
        data = request.data
        listing = service.create_listing(
            publisher=self.account,
            module_info=params.json_object(data, "ModuleInfo", required=True),
            configuration=params.json_object(data, "Configuration"),
        )
        return Response(module_data_management(listing))


class ListingDetail(PublisherAPIView):
    parser_classes = [CatalogFormParser]

    @operation(
        "FetchModuleDataManagement",
        "One of your listings' catalog content.",
        PUBLISHERS,
        {200: resource("The listing's sections; a section never set is null.", MODULE)},
        parameters=(path_sid("sid", "XB", "listing (yours)"),),
        errors=(404,),
    )
    def get(self, request, sid):
        listing = service.publisher_listing(self.account, self.path_sid(sid, "XB"))
        return Response(module_data_management(listing))

    @operation(
        "UpdateModuleDataManagement",
        "Replace catalog sections of one of your listings.",
        PUBLISHERS,
        {
            200: resource("Updated.", MODULE),
            304: ("Not modified: every given section equals what is stored (or none was given).", None),
        },
        parameters=(path_sid("sid", "XB", "listing (yours)"),),
        body=form({name: json_object_param(f"The {name} section.") for name in LISTING_SECTIONS}),
        errors=(400, 404, 413, 415),
        description="Form-encoded bodies up to 16 MB; Policies at most 5 MB of JSON.",
    )
    def post(self, request, sid):
        listing = service.publisher_listing(self.account, self.path_sid(sid, "XB"))
        sections = {key: params.json_object(request.data, param) for param, key in service.SECTIONS.items()}
        listing, changed = service.update_listing_content(listing=listing, **sections)
        if not changed:
            return Response(status=status.HTTP_304_NOT_MODIFIED)
        return Response(module_data_management(listing))
