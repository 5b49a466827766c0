"""Twilio-style error bodies for every API failure."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response

from marketplace import codes, outages
from marketplace.errors import MarketplaceError, error_body

logger = logging.getLogger(__name__)


def error_response(code, message, http_status, headers=None):
    return Response(error_body(code, message, http_status), status=http_status, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, MarketplaceError):
        return Response(exc.as_body(), status=exc.status, headers=exc.headers())
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return error_response(
            codes.AUTHENTICATION_FAILED,
            "Authenticate: credentials are missing or wrong",
            status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
        )
    if isinstance(exc, RequestDataTooBig):
        return error_response(codes.INVALID_PARAMETER, "The request body is larger than this endpoint accepts", 413)
    if isinstance(exc, Http404) or isinstance(exc, exceptions.NotFound):
        return error_response(codes.NOT_FOUND, "The requested resource was not found", 404)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return error_response(codes.METHOD_NOT_ALLOWED, f"Method not allowed: {exc.detail}", 405)
    if isinstance(exc, exceptions.ParseError):
        return error_response(codes.INVALID_PARAMETER, f"Malformed request body: {exc.detail}", 400)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return error_response(codes.INVALID_PARAMETER, f"Unsupported media type: {exc.detail}", 415)
    if isinstance(exc, exceptions.Throttled):
        headers = {"Retry-After": str(int(exc.wait or 1))}
        return error_response(codes.TOO_MANY_REQUESTS, "Too many requests", 429, headers=headers)
    if isinstance(exc, exceptions.PermissionDenied):
        return error_response(codes.FORBIDDEN, str(exc.detail), 403)
    if isinstance(exc, exceptions.APIException):
        return error_response(codes.INVALID_PARAMETER, str(exc.detail), exc.status_code)
    if isinstance(exc, outages.UNREACHABLE):
        outages.log(exc, context["view"].__class__.__name__)
        return Response(
            outages.UNAVAILABLE_ERROR.as_body(), status=503, headers={"Retry-After": str(outages.RETRY_AFTER_S)}
        )
    # Anything else is our bug: log it with its traceback, answer a Twilio body, not a page.
    logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
    return error_response(codes.INTERNAL_ERROR, "Internal server error", 500)


API_PREFIXES = ("/v1/", "/2010-04-01/", "/sandbox/")


def not_found(request, exception=None):
    """Unknown API paths answer a Twilio body; the console keeps Django's page."""
    if request.path.startswith(API_PREFIXES):
        body = error_body(codes.NOT_FOUND, f"The requested resource {request.path} was not found", 404)
        return JsonResponse(body, status=404)
    return page_not_found(request, exception)
