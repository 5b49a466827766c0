from accounts.selectors import may_act
from console.accounts import accounts_of, current_account


def console(request):
    """The account switcher and the current account on every console page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    account = getattr(request, "account", None) or current_account(request)
    return {
        "current_account": account,
        "my_accounts": accounts_of(request.user),
        "account_may_act": account is None or may_act(account),
    }
