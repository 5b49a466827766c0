from django.contrib import admin

from recordings.models import AddOnResult, Payload, Recording


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Recording)
class RecordingAdmin(ReadOnly):
    list_display = ["sid", "account", "duration_ms", "channels", "date_created"]
    search_fields = ["sid", "account__sid"]


@admin.register(AddOnResult)
class AddOnResultAdmin(ReadOnly):
    list_display = ["sid", "recording", "listing", "status", "error_code", "date_deadline", "date_completed"]
    list_filter = ["status"]
    search_fields = ["sid", "recording__sid", "account__sid"]


@admin.register(Payload)
class PayloadAdmin(ReadOnly):
    list_display = ["sid", "add_on_result", "label", "content_type", "size"]
    search_fields = ["sid", "add_on_result__sid"]
