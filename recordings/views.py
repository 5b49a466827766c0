"""Endpoints outside the Twilio API: the publisher's one-time callback, signed downloads."""

from django.http import FileResponse, Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.api.auth import authenticate_credentials, basic_credentials
from marketplace.errors import AuthenticationFailed, MarketplaceError
from recordings import services
from recordings.downloads import payload_sid_from, safe_content_type
from recordings.models import Payload


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
        response = JsonResponse(error.as_body(), status=error.status)
        if error.status == 401:
            response["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return response
    return JsonResponse({"sid": result.sid, "status": result.status}, status=200)


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
