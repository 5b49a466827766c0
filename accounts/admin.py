from django.contrib import admin

from accounts.models import Account, ApiKey, IncomingPhoneNumber, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["sid", "friendly_name", "status", "is_publisher", "date_created"]
    list_filter = ["status", "is_publisher"]
    search_fields = ["sid", "friendly_name"]
    # The auth token is a credential: staff never see or edit it here.
    exclude = ["auth_token"]
    readonly_fields = ["sid", "date_created", "date_updated"]
    inlines = [MembershipInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["sid", "friendly_name", "account", "date_created"]
    search_fields = ["sid", "account__sid"]
    exclude = ["secret_hash"]
    readonly_fields = ["sid", "account", "date_created"]

    def has_add_permission(self, request):
        return False  # keys are made through the service, which shows the secret once


@admin.register(IncomingPhoneNumber)
class IncomingPhoneNumberAdmin(admin.ModelAdmin):
    list_display = ["sid", "phone_number", "account", "friendly_name"]
    search_fields = ["sid", "phone_number", "account__sid"]
    readonly_fields = ["sid"]
