from django import forms
from django.contrib import admin, messages

from billing import services
from billing.models import Balance, BillingEvent, Hold, Invoice, LedgerEntry, Reconciliation, Statement


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BelowZero(admin.SimpleListFilter):
    """Manual usage may take a balance below zero: staff find those accounts here."""

    title = "balance"
    parameter_name = "below_zero"

    def lookups(self, request, model_admin):
        return [("yes", "below zero"), ("no", "zero or more")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(amount__lt=0)
        if self.value() == "no":
            return queryset.filter(amount__gte=0)
        return queryset


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdmin):
    list_display = ["account", "amount", "below_zero", "date_updated"]
    list_filter = [BelowZero]
    search_fields = ["account__sid", "account__friendly_name"]

    @admin.display(boolean=True, description="below zero")
    def below_zero(self, obj):
        return obj.amount < 0


class CreditForm(forms.ModelForm):
    class Meta:
        model = LedgerEntry
        fields = ["account", "amount", "reason"]

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is None or amount <= 0:
            raise forms.ValidationError("A credit must be more than 0 USD.")
        return amount


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Staff add credit here (through the same service as everything else); the ledger's
    history is never edited."""

    list_display = ["date_created", "account", "kind", "amount", "reason", "created_by"]
    list_filter = ["kind"]
    search_fields = ["account__sid", "reason"]
    form = CreditForm

    def has_change_permission(self, request, obj=None):
        return obj is None

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        entry = services.add_credit(
            account=form.cleaned_data["account"],
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            user=request.user,
        )
        obj.pk = entry.pk
        messages.info(request, f"Credited {entry.amount} USD to {entry.account.sid}.")


@admin.register(BillingEvent)
class BillingEventAdmin(ReadOnlyAdmin):
    list_display = ["date_created", "key", "kind", "account", "listing", "quantity", "amount", "reason"]
    list_filter = ["kind"]
    search_fields = ["key", "account__sid", "listing__unique_name"]


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["period", "publisher", "status", "events", "gross", "fee", "net"]
    list_filter = ["status"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["period", "account", "status", "events", "charges", "credits", "total"]
    list_filter = ["status"]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["date_created", "key", "account", "amount", "state", "date_settled"]
    list_filter = ["state"]
    search_fields = ["key", "account__sid"]


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyAdmin):
    """`check_ledger`'s runs (daily, and on demand): a failed one lists every difference."""

    list_display = ["date_created", "ok", "accounts", "first_problem"]
    list_filter = ["ok"]
    readonly_fields = ["date_created", "ok", "accounts", "problems"]

    @admin.display(description="first difference")
    def first_problem(self, report):
        return report.problems[0] if report.problems else ""
