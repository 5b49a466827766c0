"""Logins and account controls: lockout after repeated wrong passwords (django-axes, console
and admin), `next` only to our own paths, and an admin that never shows an auth token and
rotates it instead of letting staff type one."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import Account
from accounts.services import add_member, create_account
from console.accounts import SESSION_KEY

PASSWORD = "Right-pw-2024!"


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # many logins, cheaply
    return 3


@pytest.fixture
def member(customer):
    user = get_user_model().objects.create_user("alice", password=PASSWORD)
    add_member(account=customer, user=user)
    return user


@pytest.fixture
def staff(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


def post_login(client, path, username, password):
    return client.post(path, {"username": username, "password": password})


def logged_in(client):
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("path,who", [("/console/login/", "member"), ("/admin/login/", "staff")])
def test_the_right_password_after_too_many_wrong_ones_is_refused(request, limit, path, who):
    user = request.getfixturevalue(who)
    client = Client()
    for _ in range(limit - 1):
        reply = post_login(client, path, user.username, "wrong")
        assert reply.status_code == 200 and not logged_in(client)  # the form again, with its error
    locked = post_login(client, path, user.username, "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed log-ins" in page and f"after {limit} wrong passwords" in page
    assert "Try again in 15 minutes" in page

    # The right password now: still refused, from any client, with the same clear page.
    for attempt in (client, Client(REMOTE_ADDR="198.51.100.7")):
        reply = post_login(attempt, path, user.username, PASSWORD)
        assert reply.status_code == 429 and "Too many failed log-ins" in reply.content.decode()
        assert not logged_in(attempt)


def test_a_lockout_is_per_username(limit, member, customer):
    other = get_user_model().objects.create_user("bob", password=PASSWORD)
    add_member(account=customer, user=other)
    client = Client()
    for _ in range(limit):
        post_login(client, "/console/login/", "alice", "wrong")
    reply = post_login(client, "/console/login/", "bob", PASSWORD)
    assert reply.status_code == 302 and logged_in(client)


def test_failures_below_the_limit_are_forgotten_after_a_success(limit, member):
    client = Client()
    for _ in range(limit - 1):
        post_login(client, "/console/login/", "alice", "wrong")
    assert post_login(client, "/console/login/", "alice", PASSWORD).status_code == 302
    client.logout()
    for _ in range(limit - 1):
        post_login(client, "/console/login/", "alice", "wrong")
    assert post_login(client, "/console/login/", "alice", PASSWORD).status_code == 302


def test_the_lockout_ends_after_its_cool_off(limit, member, settings):
    from datetime import timedelta

    client = Client()
    for _ in range(limit):
        post_login(client, "/console/login/", "alice", "wrong")
    assert post_login(client, "/console/login/", "alice", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert post_login(client, "/console/login/", "alice", PASSWORD).status_code == 302


# --- next: only our own paths ---------------------------------------------------------------


@pytest.fixture
def two_accounts(customer, member):
    second = create_account(friendly_name="Second")
    add_member(account=second, user=member)
    client = Client()
    client.force_login(member)
    return client, second


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "http://evil.example",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "///evil.example",
        "https:/evil.example",
        "javascript:alert(1)",
        " //evil.example",
    ],
)
def test_switching_accounts_never_redirects_off_site(two_accounts, target):
    client, second = two_accounts
    reply = client.post("/console/account/", {"account": second.sid, "next": target})
    assert reply.status_code == 302
    assert reply["Location"] == "/console/"  # the dashboard instead
    assert client.session[SESSION_KEY] == second.sid  # the switch itself still happened


@pytest.mark.parametrize("target", ["/console/recordings/", "/console/catalog/?q=caller"])
def test_switching_accounts_returns_to_our_own_page(two_accounts, target):
    client, second = two_accounts
    reply = client.post("/console/account/", {"account": second.sid, "next": target})
    assert reply.status_code == 302 and reply["Location"] == target


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_logging_in_never_redirects_off_site(limit, member, target):
    client = Client()
    reply = client.post("/console/login/", {"username": "alice", "password": PASSWORD, "next": target})
    assert reply.status_code == 302 and reply["Location"] == "/console/"


# --- the admin never shows a token, and rotates instead of editing ---------------------------


def test_the_admin_never_shows_an_auth_token_current_or_previous(staff, customer):
    from accounts.services import rotate_auth_token

    previous = customer.auth_token
    current = rotate_auth_token(account=customer)  # the previous one stays valid for a while
    client = Client()
    client.force_login(staff)
    for path in (
        f"/admin/accounts/account/{customer.pk}/change/",
        "/admin/accounts/account/",
        "/admin/accounts/account/add/",
    ):
        page = client.get(path)
        assert page.status_code == 200
        body = page.content.decode()
        assert current not in body and previous not in body
        assert 'name="auth_token"' not in body and 'name="secondary_auth_token"' not in body


def test_staff_cannot_type_a_token(staff, customer):
    client = Client()
    client.force_login(staff)
    page = client.get(f"/admin/accounts/account/{customer.pk}/change/")
    form = {
        "friendly_name": customer.friendly_name,
        "status": customer.status,
        "auth_token": "a" * 32,
        "secondary_auth_token": "b" * 32,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    reply = client.post(f"/admin/accounts/account/{customer.pk}/change/", form)
    assert page.status_code == 200 and reply.status_code == 302, reply.content.decode()[:2000]
    saved = Account.objects.get(pk=customer.pk)
    assert saved.auth_token == customer.auth_token and saved.secondary_auth_token == ""


@pytest.mark.parametrize(
    "action,previous_works",
    [("rotate_auth_token_with_grace", True), ("rotate_auth_token_now", False)],
)
def test_staff_rotate_a_token_through_the_admin(staff, customer, action, previous_works):
    previous = customer.auth_token
    client = Client()
    client.force_login(staff)
    reply = client.post("/admin/accounts/account/", {"action": action, "_selected_action": [customer.pk]}, follow=True)
    assert reply.status_code == 200
    body = reply.content.decode()
    assert "Rotated the auth token of 1 account(s)" in body and "New tokens are never shown here" in body
    rotated = Account.objects.get(pk=customer.pk)
    assert rotated.auth_token != previous and rotated.auth_token not in body and previous not in body
    assert rotated.check_auth_token(rotated.auth_token)
    assert rotated.check_auth_token(previous) is previous_works
