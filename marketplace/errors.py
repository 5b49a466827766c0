"""Domain errors: raised by services and selectors, translated by the API and the console.

Each carries the Twilio error code and HTTP status it answers with, so one rule decides
what a client sees wherever the error is raised.
"""

from marketplace import codes

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"


def more_info(code):
    return MORE_INFO.format(code=code)


def error_body(code, message, status, details=None):
    """The one shape of every error answer, from the API, the callbacks, downloads, outages."""
    body = {"code": code, "message": message, "more_info": more_info(code), "status": status}
    if details is not None:
        body["details"] = details
    return body


class MarketplaceError(Exception):
    code = codes.INVALID_PARAMETER
    status = 400

    def __init__(self, message, *, param=None, code=None, status=None, details=None):
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        # Extra structured detail (e.g. every schema violation); shown as `details`.
        self.details = details

    def as_body(self):
        return error_body(self.code, self.message, self.status, self.details)

    def headers(self):
        """What the answer carries beside its body: how to authenticate, when to retry."""
        headers = {}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        if getattr(self, "retry_after", None):
            headers["Retry-After"] = str(int(self.retry_after))
        return headers


class InvalidParameter(MarketplaceError):
    """A request parameter is missing or malformed; the message names it."""

    code = codes.INVALID_PARAMETER
    status = 400


class InvalidPhoneNumber(InvalidParameter):
    code = codes.INVALID_PHONE_NUMBER


class InvalidConfiguration(InvalidParameter):
    """Configuration breaks the listing version's configuration schema."""


class NotFound(MarketplaceError):
    """Also raised for other accounts' resources: never reveal that they exist."""

    code = codes.NOT_FOUND
    status = 404


class Conflict(MarketplaceError):
    code = codes.CONFLICT
    status = 409


class ListingNotInstallable(MarketplaceError):
    code = codes.NOT_FOUND
    status = 404


class InvalidManifest(MarketplaceError):
    """A listing manifest is rejected; `details` lists each error with its JSON path."""

    code = codes.INVALID_PARAMETER
    status = 400


class TooManyInFlight(MarketplaceError):
    """The account already has as much work in flight at its own servers as it may hold."""

    code = codes.TOO_MANY_REQUESTS
    status = 429

    def __init__(self, message, *, retry_after, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class AuthenticationFailed(MarketplaceError):
    code = codes.AUTHENTICATION_FAILED
    status = 401


class AccountNotActive(MarketplaceError):
    code = codes.ACCOUNT_NOT_ACTIVE
    status = 403
