"""What every API view shares: the calling account, and resolving SIDs in the path."""

from rest_framework.views import APIView

from marketplace.api import params
from marketplace.api.throttling import AccountRateThrottle, PublisherRateThrottle
from marketplace.errors import NotFound
from marketplace.sids import normalize_sid


class AccountAPIView(APIView):
    """An endpoint acting for the authenticated account."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        params.refuse_nul(request.query_params)

    @property
    def account(self):
        return self.request.user.account

    def path_sid(self, value, prefix):
        """A SID from the URL; malformed ones are simply not found."""
        sid = normalize_sid(value, prefix)
        if sid is None:
            raise NotFound(f"The requested resource {value} was not found")
        return sid


class PublisherAPIView(AccountAPIView):
    """An endpoint publishers call: the account's rate limit and the publishers' own."""

    throttle_classes = [AccountRateThrottle, PublisherRateThrottle]


class Account2010APIView(AccountAPIView):
    """A 2010 endpoint under /Accounts/{AccountSid}: the path must name the caller's account."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if normalize_sid(kwargs.get("account_sid"), "AC") != self.account.sid:
            # Never reveal whether another account exists.
            raise NotFound(f"The requested resource /Accounts/{kwargs.get('account_sid')} was not found")
