from datetime import timedelta

from django.contrib import admin, messages

from accounts.models import Account, ApiKey, IncomingPhoneNumber, Membership
from accounts.services import rotate_auth_token


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["sid", "friendly_name", "status", "is_publisher", "date_created"]
    list_filter = ["status", "is_publisher"]
    search_fields = ["sid", "friendly_name"]
    # Auth tokens are credentials: staff never see nor type one here (the current one, nor the
    # previous one still valid after a rotation); they rotate them with the actions below.
    exclude = ["auth_token", "secondary_auth_token"]
    readonly_fields = ["sid", "date_created", "date_updated", "secondary_auth_token_expires"]
    inlines = [MembershipInline]
    actions = ["rotate_auth_token_with_grace", "rotate_auth_token_now"]

    @admin.action(description="Rotate auth token (the previous one works for 24 hours)")
    def rotate_auth_token_with_grace(self, request, queryset):
        self._rotate(request, queryset, timedelta(hours=24), "the previous ones keep working for 24 hours")

    @admin.action(description="Rotate auth token and revoke the previous one now")
    def rotate_auth_token_now(self, request, queryset):
        self._rotate(request, queryset, timedelta(0), "the previous ones no longer work")

    def _rotate(self, request, queryset, grace, kept):
        for account in queryset:
            rotate_auth_token(account=account, grace=grace)
        self.message_user(
            request,
            f"Rotated the auth token of {queryset.count()} account(s); {kept}. New tokens are never shown here.",
            messages.SUCCESS,
        )


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
