"""Staff moderation of listings: the state machine (service), its audit log, and the admin."""

import json
import re
import threading
from html import unescape
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from addons.models import Listing, ListingStateChange
from addons.services import set_listing_state
from addons.services.moderation import InvalidTransition, next_states
from addons.tests.factories import make_manifest
from marketplace.errors import InvalidParameter

S = Listing.State
FORWARD = [(S.DRAFT, S.MARKETING_PREVIEW), (S.MARKETING_PREVIEW, S.PRIVATE_BETA), (S.PRIVATE_BETA, S.ACTIVE)]
ALLOWED = [
    *FORWARD,
    (S.ACTIVE, S.SUSPENDED),
    (S.SUSPENDED, S.ACTIVE),
    *[(state, S.RETIRED) for state in S.values if state != S.RETIRED],
]
DISALLOWED = [(a, b) for a in S.values for b in S.values if (a, b) not in ALLOWED]
NEXT = {
    "draft": "marketing_preview, retired",
    "marketing_preview": "private_beta, retired",
    "private_beta": "active, retired",
    "active": "suspended, retired",
    "suspended": "active, retired",
}


def ids(pairs):
    return [f"{a}->{b}" for a, b in pairs]


def snapshot(listing):
    """What a refused move must leave alone: the state and the whole log."""
    listing.refresh_from_db()
    return listing.state, list(ListingStateChange.objects.filter(listing=listing).values_list("id", flat=True))


@pytest.fixture
def staff(db):
    return User.objects.create_user("moderator", password="pw", is_staff=True)


@pytest.fixture
def bare_listing(publisher):
    """A listing created before its first manifest: no version, nothing to install."""

    def make(state=S.DRAFT):
        return Listing.objects.create(
            publisher=publisher, unique_name=f"bare_{state}", friendly_name="Bare", state=state
        )

    return make


def state_url(listing):
    return f"/admin/addons/listing/{listing.pk}/state/"


def change_url(listing):
    return f"/admin/addons/listing/{listing.pk}/change/"


# --- the service -----------------------------------------------------------------------------


@pytest.mark.parametrize("from_state,to_state", ALLOWED, ids=ids(ALLOWED))
def test_every_allowed_transition_moves_the_listing_and_logs_it(make_listing, staff, from_state, to_state):
    listing = make_listing(state=from_state)
    before = timezone.now()
    change = set_listing_state(listing=listing, to_state=to_state, reason="  Reviewed by trust & safety  ", user=staff)
    assert listing.state == to_state
    listing.refresh_from_db()
    assert listing.state == to_state
    entry = ListingStateChange.objects.filter(listing=listing).first()  # newest first
    assert entry == change
    assert (entry.from_state, entry.to_state, entry.reason, entry.changed_by) == (
        from_state,
        to_state,
        "Reviewed by trust & safety",
        staff,
    )
    assert before <= entry.date_created <= timezone.now()


@pytest.mark.parametrize("from_state,to_state", DISALLOWED, ids=ids(DISALLOWED))
def test_every_other_transition_is_refused_and_changes_nothing(make_listing, staff, from_state, to_state):
    listing = make_listing(state=from_state)
    before = snapshot(listing)
    with pytest.raises(InvalidTransition) as refused:
        set_listing_state(listing=listing, to_state=to_state, reason="because", user=staff)
    if from_state == S.RETIRED:
        assert "final" in refused.value.message
    else:
        assert f"allowed next states: {NEXT[from_state]}" in refused.value.message
    assert refused.value.param == "to_state" and refused.value.status == 409
    assert snapshot(listing) == before


def test_the_refusal_names_the_states(make_listing, staff):
    listing = make_listing(state=S.DRAFT)
    with pytest.raises(InvalidTransition) as refused:
        set_listing_state(listing=listing, to_state=S.ACTIVE, reason="skip ahead", user=staff)
    assert refused.value.message == (
        "Listing caller_insight cannot move from draft to active; allowed next states: marketing_preview, retired"
    )
    listing = make_listing(state=S.RETIRED)
    with pytest.raises(InvalidTransition, match="retired, a final state"):
        set_listing_state(listing=listing, to_state=S.ACTIVE, reason="bring it back", user=staff)


@pytest.mark.parametrize("reason", ["", "   \n\t", None])
def test_a_blank_reason_is_refused(listing, staff, reason):
    before = snapshot(listing)
    with pytest.raises(InvalidParameter) as refused:
        set_listing_state(listing=listing, to_state=S.SUSPENDED, reason=reason, user=staff)
    assert refused.value.param == "reason" and "reason" in refused.value.message
    assert snapshot(listing) == before


def test_an_unknown_state_is_refused(listing, staff):
    before = snapshot(listing)
    with pytest.raises(InvalidParameter, match="State must be one of draft, marketing_preview"):
        set_listing_state(listing=listing, to_state="deleted", reason="x", user=staff)
    assert snapshot(listing) == before


@pytest.mark.parametrize("from_state,to_state", [(S.MARKETING_PREVIEW, S.PRIVATE_BETA), (S.SUSPENDED, S.ACTIVE)])
def test_a_listing_without_a_version_cannot_become_installable(bare_listing, staff, from_state, to_state):
    listing = bare_listing(from_state)
    before = snapshot(listing)
    with pytest.raises(InvalidTransition, match=f"has no version yet, so it cannot go to {to_state}"):
        set_listing_state(listing=listing, to_state=to_state, reason="ready", user=staff)
    assert snapshot(listing) == before
    assert to_state not in next_states(listing) and S.RETIRED in next_states(listing)


def test_a_listing_without_a_version_can_still_be_previewed_and_retired(bare_listing, staff):
    listing = bare_listing(S.DRAFT)
    set_listing_state(listing=listing, to_state=S.MARKETING_PREVIEW, reason="teaser", user=staff)
    set_listing_state(listing=listing, to_state=S.RETIRED, reason="abandoned", user=staff)
    log = list(listing.state_changes.values_list("from_state", "to_state"))
    assert log == [("marketing_preview", "retired"), ("draft", "marketing_preview")]


def test_the_state_the_caller_saw_must_still_hold(listing, staff):
    """A stale page (the listing moved meanwhile) is refused rather than applied blindly."""
    set_listing_state(listing=Listing.objects.get(pk=listing.pk), to_state=S.SUSPENDED, reason="abuse", user=staff)
    before = snapshot(listing)
    with pytest.raises(InvalidTransition, match="moved from active to suspended meanwhile"):
        set_listing_state(listing=listing, to_state=S.RETIRED, reason="old news", user=staff, from_state=S.ACTIVE)
    assert snapshot(listing) == before


def test_the_listing_row_is_locked(listing, staff):
    with CaptureQueriesContext(connection) as queries:
        set_listing_state(listing=listing, to_state=S.SUSPENDED, reason="abuse", user=staff)
    if connection.features.has_select_for_update:
        assert any("FOR UPDATE" in query["sql"] for query in queries.captured_queries)
    else:  # SQLite: the transaction is BEGIN IMMEDIATE, which takes the write lock up front
        assert connection.settings_dict["OPTIONS"].get("transaction_mode") == "IMMEDIATE"


@pytest.mark.django_db(transaction=True)
def test_two_staff_at_once_cannot_both_move_it_from_the_same_state(make_listing):
    listing = make_listing(state=S.ACTIVE)
    users = [User.objects.create_user(name, is_staff=True) for name in ("alice", "bob")]
    start = threading.Barrier(2)
    outcomes = []

    def act(user):
        try:
            start.wait()
            set_listing_state(
                listing=Listing.objects.get(pk=listing.pk), to_state=S.SUSPENDED, reason="spam", user=user
            )
            outcomes.append("moved")
        except InvalidTransition:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["moved", "refused"]
    moves = ListingStateChange.objects.filter(listing=listing, from_state=S.ACTIVE, to_state=S.SUSPENDED)
    assert moves.count() == 1
    listing.refresh_from_db()
    assert listing.state == S.SUSPENDED


# --- import_listing's --state ----------------------------------------------------------------


def test_import_with_a_state_is_logged_as_set_at_import(publisher):
    from addons.services import import_listing

    listing = import_listing(manifest=make_manifest(), publisher=publisher).listing
    assert listing.state == S.DRAFT and not listing.state_changes.exists()
    import_listing(manifest=make_manifest(), publisher=publisher, state="active")
    import_listing(manifest=make_manifest(), publisher=publisher, state="active")  # no change: no entry
    import_listing(manifest=make_manifest(), publisher=publisher)  # keeps its state
    entries = list(listing.state_changes.values_list("from_state", "to_state", "reason", "changed_by"))
    assert entries == [("draft", "active", "set at import", None)]


def test_the_import_command_still_sets_the_state(publisher, tmp_path, capsys):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(make_manifest(unique_name="cli_listing")))
    call_command("import_listing", str(path), "--publisher", publisher.sid, "--state", "private_beta")
    assert "state private_beta" in capsys.readouterr().out
    listing = Listing.objects.get(unique_name="cli_listing")
    assert listing.state == S.PRIVATE_BETA
    assert listing.state_changes.get().reason == "set at import"


# --- the admin -------------------------------------------------------------------------------


def options(html):
    select = re.search(r'<select name="to_state"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [value for value in re.findall(r'<option value="([^"]*)"', select) if value]


@pytest.mark.parametrize("from_state", [s for s in S.values])
def test_the_dropdown_offers_only_the_allowed_next_states(admin_client, make_listing, from_state):
    listing = make_listing(state=from_state)
    reply = admin_client.get(state_url(listing))
    assert reply.status_code == 200
    html = reply.content.decode()
    if from_state == S.RETIRED:
        assert 'name="to_state"' not in html and "Retired is final" in html
    else:
        assert options(html) == NEXT[from_state].split(", ")
        assert re.search(r'<textarea name="reason"', html)


def test_the_dropdown_leaves_out_installable_states_without_a_version(admin_client, bare_listing):
    listing = bare_listing(S.MARKETING_PREVIEW)
    html = admin_client.get(state_url(listing)).content.decode()
    assert options(html) == ["retired"]
    assert "no version yet" in html


@pytest.mark.parametrize("from_state,to_state", ALLOWED, ids=ids(ALLOWED))
def test_staff_move_a_listing_through_the_admin(admin_client, admin_user, make_listing, from_state, to_state):
    listing = make_listing(state=from_state)
    before = timezone.now()
    reply = admin_client.post(
        state_url(listing), {"from_state": from_state, "to_state": to_state, "reason": "Checked the endpoint"}
    )
    assert reply.status_code == 302 and reply["Location"] == change_url(listing)
    listing.refresh_from_db()
    assert listing.state == to_state
    entry = listing.state_changes.first()
    assert (entry.from_state, entry.to_state, entry.reason, entry.changed_by) == (
        from_state,
        to_state,
        "Checked the endpoint",
        admin_user,
    )
    assert before <= entry.date_created <= timezone.now()
    page = admin_client.get(reply["Location"])
    assert f"Listing caller_insight moved from {from_state} to {to_state}." in [
        str(m) for m in page.context["messages"]
    ]


@pytest.mark.parametrize(
    "from_state,to_state",
    [
        (S.DRAFT, S.ACTIVE),
        (S.ACTIVE, S.DRAFT),
        (S.PRIVATE_BETA, S.MARKETING_PREVIEW),
        (S.SUSPENDED, S.PRIVATE_BETA),
        (S.ACTIVE, S.ACTIVE),
        *[(S.RETIRED, state) for state in S.values],
    ],
)
def test_the_admin_refuses_a_disallowed_move_beside_the_field(admin_client, make_listing, from_state, to_state):
    listing = make_listing(state=from_state)
    before = snapshot(listing)
    reply = admin_client.post(state_url(listing), {"from_state": from_state, "to_state": to_state, "reason": "try"})
    assert reply.status_code == 200
    [error] = reply.context["form"].errors["to_state"]
    if from_state == S.RETIRED:
        assert "final state" in error
    else:
        assert f"cannot move from {from_state} to {to_state}; allowed next states: {NEXT[from_state]}" in error
    html = unescape(reply.content.decode())
    row = re.search(r'<div class="form-row errors field-to_state">(.*?)</select>', html, re.S).group(1)
    assert error in row  # shown beside the field
    assert snapshot(listing) == before


def test_the_admin_refuses_an_installable_state_without_a_version(admin_client, bare_listing):
    listing = bare_listing(S.SUSPENDED)
    before = snapshot(listing)
    reply = admin_client.post(state_url(listing), {"from_state": "suspended", "to_state": "active", "reason": "ok"})
    assert reply.status_code == 200
    assert "has no version yet" in reply.context["form"].errors["to_state"][0]
    assert snapshot(listing) == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_the_admin_refuses_a_blank_reason(admin_client, listing, reason):
    before = snapshot(listing)
    reply = admin_client.post(state_url(listing), {"from_state": "active", "to_state": "suspended", "reason": reason})
    assert reply.status_code == 200
    assert reply.context["form"].errors["reason"] == ["A state change needs a reason."]
    assert 'class="form-row errors field-reason"' in reply.content.decode()
    assert snapshot(listing) == before


def test_the_admin_refuses_a_move_from_a_stale_page(admin_client, admin_user, listing):
    set_listing_state(listing=listing, to_state=S.SUSPENDED, reason="abuse", user=admin_user)
    before = snapshot(listing)
    reply = admin_client.post(state_url(listing), {"from_state": "active", "to_state": "retired", "reason": "old"})
    assert reply.status_code == 200
    assert "moved from active to suspended meanwhile" in reply.context["form"].non_field_errors()[0]
    assert 'name="from_state" value="suspended"' in reply.content.decode()  # the page now shows the truth
    assert snapshot(listing) == before


def test_the_view_needs_staff(client, listing, db):
    before = snapshot(listing)
    for reply in (
        client.get(state_url(listing)),
        client.post(state_url(listing), {"to_state": "suspended", "reason": "x"}),
    ):
        assert reply.status_code == 302 and reply["Location"].startswith("/admin/login/")
    client.force_login(User.objects.create_user("customer_user", password="pw"))  # not staff
    reply = client.post(state_url(listing), {"to_state": "suspended", "reason": "x"})
    assert reply.status_code == 302 and reply["Location"].startswith("/admin/login/")
    assert snapshot(listing) == before


def test_staff_need_the_change_permission(client, staff, listing):
    client.force_login(staff)
    before = snapshot(listing)
    assert client.post(state_url(listing), {"to_state": "suspended", "reason": "x"}).status_code == 403
    assert snapshot(listing) == before
    staff.user_permissions.add(Permission.objects.get(codename="change_listing"))
    reply = client.post(state_url(listing), {"from_state": "active", "to_state": "suspended", "reason": "x"})
    assert reply.status_code == 302
    listing.refresh_from_db()
    assert listing.state == S.SUSPENDED and listing.state_changes.first().changed_by == staff


def test_an_unknown_listing_redirects_to_the_admin_index(admin_client, db):
    reply = admin_client.get("/admin/addons/listing/999999/state/")
    assert reply.status_code == 302 and reply["Location"] == "/admin/"


def test_the_change_page_shows_the_log_and_keeps_the_state_read_only(admin_client, admin_user, make_listing):
    listing = make_listing(state=S.PRIVATE_BETA)
    admin_client.post(
        state_url(listing), {"from_state": "private_beta", "to_state": "active", "reason": "Beta went well"}
    )
    admin_client.post(state_url(listing), {"from_state": "active", "to_state": "suspended", "reason": "Endpoint down"})
    reply = admin_client.get(change_url(listing))
    assert reply.status_code == 200
    html = reply.content.decode()
    assert f'href="{state_url(listing)}"' in html  # the "Change state" button
    assert "Beta went well" in html and "Endpoint down" in html
    assert html.index("Endpoint down") < html.index("Beta went well") < html.index("set at import")  # newest first
    form = reply.context["adminform"].form
    assert "state" not in form.fields and "beta_accounts" in form.fields  # the allowlist stays editable
    assert '<select name="state"' not in html


class FormFields(HTMLParser):
    """The fields a browser would submit from a page's form: inputs, textareas, selects."""

    def __init__(self):
        super().__init__()
        self.data, self._textarea, self._select = {}, None, None

    def add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self.add(name, attrs.get("value", "on" if attrs.get("type") == "checkbox" else ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.add(name, "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.add(self._select, attrs.get("value", ""))

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def submitted_form(html):
    parser = FormFields()
    parser.feed(html)
    return {name: values if len(values) > 1 else values[0] for name, values in parser.data.items()}


def test_editing_a_listing_in_the_admin_cannot_change_its_state(admin_client, make_listing, customer):
    """Saving the change form as a browser would (its log inline included) keeps the state
    and the log as they are; a forged `state` is ignored; the allowlist is saved."""
    listing = make_listing(state=S.PRIVATE_BETA)
    set_listing_state(listing=listing, to_state=S.ACTIVE, reason="Beta went well", user=None)
    before = snapshot(listing)
    data = submitted_form(admin_client.get(change_url(listing)).content.decode())
    assert data["state_changes-TOTAL_FORMS"] == "2"
    data.pop("csrfmiddlewaretoken", None)
    data.update({"friendly_name": "Renamed", "state": "retired", "beta_accounts": [str(customer.pk)]})
    reply = admin_client.post(change_url(listing), data)
    assert reply.status_code == 302, reply.context["adminform"].form.errors if reply.context else reply
    assert snapshot(listing) == before
    assert listing.friendly_name == "Renamed"
    assert list(listing.beta_accounts.all()) == [customer]
    assert [c.reason for c in listing.state_changes.all()] == ["Beta went well", "set at import"]


def test_the_log_is_listed_read_only_in_the_admin(admin_client, admin_user, make_listing):
    first = make_listing(state=S.ACTIVE)
    second = make_listing(state=S.DRAFT, unique_name="second_listing")
    set_listing_state(listing=first, to_state=S.SUSPENDED, reason="abuse report", user=admin_user)
    set_listing_state(listing=second, to_state=S.MARKETING_PREVIEW, reason="teaser", user=admin_user)
    reply = admin_client.get("/admin/addons/listingstatechange/")
    assert reply.status_code == 200
    assert "abuse report" in reply.content.decode() and "teaser" in reply.content.decode()

    suspended = admin_client.get("/admin/addons/listingstatechange/?to_state__exact=suspended")
    assert [e.reason for e in suspended.context["cl"].result_list] == ["abuse report"]
    by_listing = admin_client.get(f"/admin/addons/listingstatechange/?listing__id__exact={second.pk}")
    assert by_listing.status_code == 200 and [e.reason for e in by_listing.context["cl"].result_list] == ["teaser"]
    searched = admin_client.get("/admin/addons/listingstatechange/?q=second_listing")
    assert [e.reason for e in searched.context["cl"].result_list] == ["teaser"]

    entry = first.state_changes.first()
    assert admin_client.get(f"/admin/addons/listingstatechange/{entry.pk}/change/").status_code == 200
    assert admin_client.get("/admin/addons/listingstatechange/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/addons/listingstatechange/{entry.pk}/change/", {"reason": "edited"}).status_code
        == 403
    )
    assert admin_client.post(f"/admin/addons/listingstatechange/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.reason == "abuse report"


# --- the rest of the staff tools: the task monitor, accounts and balances -------------------


def test_the_django_q_task_monitor_answers(admin_client, db):
    from django_q.models import OrmQ

    assert admin_client.get("/admin/django_q/").status_code == 200
    pages = ["success", "failure", "schedule"] + (["ormq"] if OrmQ in admin.site._registry else [])
    for model in pages:
        assert admin_client.get(f"/admin/django_q/{model}/").status_code == 200, model
    assert admin_client.get("/admin/django_q/schedule/add/").status_code == 200


def test_staff_can_open_accounts_and_balances(admin_client, customer, publisher):
    pages = [
        "/admin/accounts/account/",
        f"/admin/accounts/account/{customer.pk}/change/",
        f"/admin/accounts/account/{publisher.pk}/change/",
        "/admin/accounts/account/add/",
        "/admin/accounts/apikey/",
        "/admin/accounts/incomingphonenumber/",
        "/admin/billing/balance/",
        f"/admin/billing/balance/{customer.balance.pk}/change/",
        "/admin/billing/ledgerentry/",
        "/admin/billing/ledgerentry/add/",
        "/admin/billing/billingevent/",
        "/admin/billing/statement/",
    ]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page
    assert customer.sid in admin_client.get("/admin/billing/balance/").content.decode()
