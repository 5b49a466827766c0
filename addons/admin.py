from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from addons.models import (
    BillableItem,
    Extension,
    InstalledAddOn,
    InstalledExtension,
    Listing,
    ListingStateChange,
    ListingVersion,
)
from addons.services.moderation import NEEDS_VERSION, TRANSITIONS, next_states, set_listing_state
from marketplace.errors import MarketplaceError


class ListingVersionInline(admin.TabularInline):
    model = ListingVersion
    fields = ["sid", "number", "date_created"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


class ExtensionInline(admin.TabularInline):
    model = Extension
    fields = ["sid", "unique_name", "product_name", "friendly_name"]
    readonly_fields = ["sid"]
    extra = 0


class ListingStateChangeInline(admin.TabularInline):
    """The listing's moderation log, newest first; written only by the moderation service."""

    model = ListingStateChange
    fields = ["date_created", "from_state", "to_state", "changed_by", "reason"]
    readonly_fields = fields
    ordering = ["-id"]
    extra = 0
    can_delete = False
    verbose_name = "state change"
    verbose_name_plural = "state changes (moderation log)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NextStateField(forms.ChoiceField):
    """The dropdown offers only the allowed next states, but whatever is posted goes to the
    moderation service, which alone decides (and explains a refusal)."""

    def valid_value(self, value):
        return True


class ChangeStateForm(forms.Form):
    to_state = NextStateField(label="New state")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Kept in the listing's moderation log with your name and the time.",
        error_messages={"required": "A state change needs a reason."},
    )

    def __init__(self, *args, listing, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer(listing)

    def offer(self, listing):
        states = next_states(listing)
        self.fields["to_state"].choices = [("", "---------")] + [
            (state, f"{Listing.State(state).label} ({state})") for state in states
        ]
        return states


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["sid", "unique_name", "friendly_name", "type", "pricing_type", "state", "publisher"]
    list_filter = ["state", "type", "pricing_type"]
    search_fields = ["sid", "unique_name", "friendly_name"]
    # The state moves only through "Change state" (the moderation service, which logs it).
    readonly_fields = ["sid", "state", "latest_version", "date_created", "date_updated"]
    filter_horizontal = ["beta_accounts"]
    inlines = [ExtensionInline, ListingVersionInline, ListingStateChangeInline]
    change_form_template = "admin/addons/listing/change_form.html"
    change_state_template = "admin/addons/listing/change_state.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/state/",
                self.admin_site.admin_view(self.change_state_view),
                name="{}_{}_state".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_state_view(self, request, object_id):
        listing = self.get_object(request, object_id)
        if listing is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, listing):
            raise PermissionDenied
        change_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[listing.pk],
            current_app=self.admin_site.name,
        )
        if request.method == "POST":
            form = ChangeStateForm(request.POST, listing=listing)
            if form.is_valid():
                try:
                    change = set_listing_state(
                        listing=listing,
                        to_state=form.cleaned_data["to_state"],
                        reason=form.cleaned_data["reason"],
                        user=request.user,
                        from_state=request.POST.get("from_state") or None,
                    )
                except MarketplaceError as error:
                    form.add_error(error.param if error.param in form.fields else None, error.message)
                    listing.refresh_from_db()
                    form.offer(listing)
                else:
                    messages.success(
                        request, f"Listing {listing.unique_name} moved from {change.from_state} to {change.to_state}."
                    )
                    return HttpResponseRedirect(change_url)
        else:
            form = ChangeStateForm(listing=listing)

        context = {
            **self.admin_site.each_context(request),
            "title": f"Change the state of {listing.unique_name}",
            "subtitle": None,
            "opts": self.opts,
            "original": listing,
            "form": form,
            "media": self.media + form.media,
            "change_url": change_url,
            "allowed": TRANSITIONS.get(listing.state, ()),
            "offered": next_states(listing),
            "missing_version": listing.latest_version_id is None
            and any(state in NEEDS_VERSION for state in TRANSITIONS.get(listing.state, ())),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_state_template, context)


@admin.register(ListingStateChange)
class ListingStateChangeAdmin(admin.ModelAdmin):
    """The moderation log across listings: read only."""

    list_display = ["listing", "date_created", "from_state", "to_state", "changed_by", "reason"]
    list_filter = ["to_state"]
    list_select_related = ["listing", "changed_by"]
    search_fields = ["listing__unique_name", "listing__sid", "reason"]
    ordering = ["-id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ListingVersion)
class ListingVersionAdmin(admin.ModelAdmin):
    list_display = ["sid", "listing", "number", "date_created"]
    readonly_fields = ["sid", "listing", "number", "date_created"]
    exclude = ["endpoint", "manifest"]  # both may carry the publisher's credentials


@admin.register(BillableItem)
class BillableItemAdmin(admin.ModelAdmin):
    list_display = ["sid", "listing", "name"]
    readonly_fields = ["sid"]


class InstalledExtensionInline(admin.TabularInline):
    model = InstalledExtension
    fields = ["extension", "enabled"]
    readonly_fields = ["extension"]
    extra = 0
    can_delete = False


@admin.register(InstalledAddOn)
class InstalledAddOnAdmin(admin.ModelAdmin):
    list_display = ["sid", "unique_name", "account", "listing", "version", "date_created"]
    search_fields = ["sid", "unique_name", "account__sid"]
    readonly_fields = ["sid", "install_sid", "account", "listing", "version", "terms_accepted_at"]
    inlines = [InstalledExtensionInline]
