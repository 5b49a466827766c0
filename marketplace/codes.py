"""Every error code the platform answers with, in one place.

docs/errors.md lists exactly these (a test holds the two together). The 2xxxx codes answer
API requests; the 61xxx codes tell how an add-on invocation ended (invocation/outcomes.py
pairs each with its message and rules). 20005, 61003 and 61006 are Twilio's own.
"""

# API answers
INVALID_PARAMETER = 20001
AUTHENTICATION_FAILED = 20003
METHOD_NOT_ALLOWED = 20004
ACCOUNT_NOT_ACTIVE = 20005  # also the outcome of a recording whose account was closed
FORBIDDEN = 20403
NOT_FOUND = 20404
CONFLICT = 20409
TOO_MANY_REQUESTS = 20429
INTERNAL_ERROR = 20500
UNAVAILABLE = 20503
INVALID_PHONE_NUMBER = 21421

# Add-on invocations
SEVERAL_ADD_ONS_FAILED = 61001  # top-level add_ons.code only
REQUIREMENTS_NOT_MET = 61003
WEBHOOK_GET = 61006
PUBLISHER_ERROR = 61008
NOT_INSTALLED = 61010
EXTENSION_DISABLED = 61011
NOT_SUPPORTED = 61012
LISTING_UNAVAILABLE = 61013
FORBIDDEN_DESTINATION = 61014
CIRCUIT_OPEN = 61015
RATE_LIMITED = 61016
PUBLISHER_INACTIVE = 61017
TIMEOUT = 61020
CONNECTION_FAILED = 61021
HTTP_4XX = 61022
HTTP_5XX = 61023
TOO_LARGE = 61024
INVALID_RESPONSE = 61025
SCHEMA_REJECTED = 61026
UNEXPECTED_STATUS = 61027
REQUEST_INVALID = 61028
UNSAFE_JSON = 61029
PLATFORM_ERROR = 61030
NOTIFICATION_UNDELIVERABLE = 61031
INSUFFICIENT_BALANCE = 61032
BALANCE_BELOW_ZERO = 61036

# The customer's own URLs (sandbox webhooks, result notifications)
WEBHOOK_REFUSED = 61040
WEBHOOK_TIMEOUT = 61041

ALL = frozenset(value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, int))

# The code an API error answers with when a service names only its HTTP status.
BY_STATUS = {400: INVALID_PARAMETER, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}
