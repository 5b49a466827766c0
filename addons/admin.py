from django.contrib import admin

from addons.models import BillableItem, Extension, InstalledAddOn, InstalledExtension, Listing, ListingVersion


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


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["sid", "unique_name", "friendly_name", "type", "pricing_type", "state", "publisher"]
    list_filter = ["state", "type", "pricing_type"]
    search_fields = ["sid", "unique_name", "friendly_name"]
    readonly_fields = ["sid", "latest_version", "date_created", "date_updated"]
    filter_horizontal = ["beta_accounts"]
    inlines = [ExtensionInline, ListingVersionInline]


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
