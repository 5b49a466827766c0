"""Which account a console user is acting for: one of their memberships, kept in the session."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from accounts import selectors as account_selectors
from accounts.selectors import may_act

SESSION_KEY = "console_account_sid"


def accounts_of(user):
    return account_selectors.accounts_of(user)


def current_account(request):
    chosen = account_selectors.account_of(request.user, request.session.get(SESSION_KEY))
    return chosen or accounts_of(request.user).first()


READS = ("GET", "HEAD", "OPTIONS")


def with_account(view):
    """Log-in required; the view gets `account` (404 for a user with none). A suspended or
    closed account reads but does not act: every other method is refused before the view."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        account = current_account(request)
        if account is None:
            # A staff user, say: explain instead of a bare 404.
            return render(request, "console/no_account.html", status=403)
        request.account = account
        if request.method not in READS and not may_act(account):
            return render(request, "console/refused.html", {"account": account}, status=403)
        return view(request, *args, account=account, **kwargs)

    return wrapper


def publisher_only(view):
    @with_account
    @wraps(view)
    def wrapper(request, *args, account, **kwargs):
        if not account.is_publisher:
            raise Http404("Not a publisher account")
        return view(request, *args, account=account, **kwargs)

    return wrapper
