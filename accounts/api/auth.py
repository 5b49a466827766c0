"""HTTP Basic with `AccountSid:AuthToken` or `ApiKeySid:Secret`, as Twilio's API takes."""

import base64
import binascii

from rest_framework import authentication

from accounts.models import Account, ApiKey
from accounts.selectors import ensure_may_act
from marketplace.errors import AuthenticationFailed
from marketplace.sids import normalize_sid


class ApiPrincipal:
    """Who is calling: the account, and the API key when one was used."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, account, api_key=None):
        self.account = account
        self.api_key = api_key

    def __str__(self):
        return self.api_key.sid if self.api_key else self.account.sid


def basic_credentials(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("Authenticate: the Authorization header is not valid Basic credentials")
    username, sep, password = decoded.partition(":")
    if not sep:
        raise AuthenticationFailed("Authenticate: the Authorization header is not valid Basic credentials")
    return username, password


def authenticate_credentials(username, password):
    """The principal these credentials name, or AuthenticationFailed / AccountNotActive."""
    principal = None
    if sid := normalize_sid(username, "AC"):
        account = Account.objects.filter(sid=sid).first()
        if account and account.check_auth_token(password):
            principal = ApiPrincipal(account)
    elif sid := normalize_sid(username, "SK"):
        key = ApiKey.objects.select_related("account").filter(sid=sid).first()
        if key and key.check_secret(password):
            principal = ApiPrincipal(key.account, key)
    if principal is None:
        raise AuthenticationFailed("Authenticate: credentials are missing or wrong")
    ensure_may_act(principal.account, refused="its API access is refused")
    return principal


class TwilioBasicAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        credentials = basic_credentials(request)
        if credentials is None:
            return None
        principal = authenticate_credentials(*credentials)
        return principal, None

    def authenticate_header(self, request):
        return 'Basic realm="Twilio API"'
