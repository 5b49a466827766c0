"""Domain errors: raised by services and selectors, translated by the API and the console.

Each carries the Twilio error code and HTTP status it answers with, so one rule decides
what a client sees wherever the error is raised.
"""

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"


class MarketplaceError(Exception):
    code = 20001
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
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.status,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidParameter(MarketplaceError):
    """A request parameter is missing or malformed; the message names it."""

    code = 20001
    status = 400


class InvalidPhoneNumber(InvalidParameter):
    code = 21421


class InvalidConfiguration(InvalidParameter):
    """Configuration breaks the listing version's configuration schema."""


class NotFound(MarketplaceError):
    """Also raised for other accounts' resources: never reveal that they exist."""

    code = 20404
    status = 404


class Conflict(MarketplaceError):
    code = 20409
    status = 409


class ListingNotInstallable(MarketplaceError):
    code = 20404
    status = 404


class InvalidManifest(MarketplaceError):
    """A listing manifest is rejected; `details` lists each error with its JSON path."""

    code = 20001
    status = 400


class TooManyInFlight(MarketplaceError):
    """The account already has as much work in flight at its own servers as it may hold."""

    code = 20429
    status = 429

    def __init__(self, message, *, retry_after, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class AuthenticationFailed(MarketplaceError):
    code = 20003
    status = 401


class AccountNotActive(MarketplaceError):
    code = 20005
    status = 403
