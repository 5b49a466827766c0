"""Endpoints outside the Twilio API: the publisher's one-time callback, signed downloads."""

from django.http import FileResponse, Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.api.auth import authenticate_credentials, basic_credentials
from marketplace.api.openapi import (
    JSON,
    SECURITY_SCHEME,
    error_response_objects,
    json_response,
    path_item,
    ref,
    sid_schema,
)
from marketplace.errors import AuthenticationFailed, MarketplaceError
from recordings import services
from recordings.downloads import payload_sid_from, safe_content_type
from recordings.models import Payload


@path_item(
    {
        "post": {
            "operationId": "CreateAddOnResultCallback",
            "summary": "A publisher delivers a recording add-on's result, once, to its `{{callback_url}}`.",
            "description": "HTTP Basic as the add-on's publisher account. The body (JSON, up to 100 MB) is "
            "streamed to storage, checked by the listing's response rules and kept as the result's Payload.",
            "tags": ["Callbacks"],
            "parameters": [
                {
                    "name": "result_sid",
                    "in": "path",
                    "required": True,
                    "schema": sid_schema("XR"),
                    "description": "The AddOnResult the callback URL was made for.",
                },
                {
                    "name": "token",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The one-time token of the callback URL; anything else answers 404.",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": {"description": "The add-on's result, as the publisher makes it."}}},
            },
            "security": [{SECURITY_SCHEME: []}],
            "responses": {
                "200": json_response("Taken: the result's new status.", ref("callbacks.v1.add_on_result")),
                **error_response_objects((401, 403, 404, 409, 410, 413)),
            },
        }
    }
)
@csrf_exempt
@require_POST
def add_on_result_callback(request, result_sid, token):
    """The publisher POSTs its result here once, with HTTP Basic as its own account."""
    try:
        credentials = basic_credentials(request)
        if credentials is None:
            raise AuthenticationFailed("Authenticate with the publisher account's credentials")
        principal = authenticate_credentials(*credentials)
        result = services.receive_callback(
            result_sid=result_sid,
            token=token,
            principal=principal,
            body=request,  # read in chunks from the socket, never whole
            content_type=request.content_type,
        )
    except MarketplaceError as error:
        return JsonResponse(error.as_body(), status=error.status, headers=error.headers())
    return JsonResponse({"sid": result.sid, "status": result.status}, status=200)


@path_item(
    {
        "get": {
            "operationId": "FetchPayloadDownload",
            "summary": "A payload's stored data, at the signed URL a Payload's Data gives (`redirect_to`).",
            "tags": ["Callbacks"],
            "security": [],
            "parameters": [
                {
                    "name": "token",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The signed, expiring token of the download URL.",
                }
            ],
            "responses": {
                "200": {
                    "description": "The payload as the publisher sent it, as an attachment (`nosniff`): "
                    "`application/json` when it was posted as JSON, else `application/octet-stream`.",
                    "content": {
                        "application/json": {"schema": {"description": "The stored bytes, unchanged."}},
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                "404": {
                    "description": "The link is invalid or has expired (an HTML page, like any non-API URL).",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
            },
        }
    }
)
@require_GET
def payload_download(request, token):
    sid = payload_sid_from(token)
    payload = Payload.objects.filter(sid=sid).first() if sid else None
    if payload is None:
        raise Http404("This link is invalid or has expired")
    # Data, never a page of ours: a download, its type from the allowlist (payloads stored
    # before the allowlist may carry any), not sniffed, and no script even if opened.
    content_type = safe_content_type(payload.content_type)
    extension = ".json" if content_type == "application/json" else ""
    response = FileResponse(
        payload.data.open("rb"), content_type=content_type, as_attachment=True, filename=payload.sid + extension
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
