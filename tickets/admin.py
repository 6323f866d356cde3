"""The process data for superusers: the RACI table and the product catalogue. Support managers
edit them on their own set-up pages (``managers.setup``, /manager/setup/), which validate and log."""

from django.contrib import admin

from tickets.models import HoursCard, Module, Product, RaciRule, Ticket


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "consultancy_for_functional", "active", "position"]
    list_editable = ["consultancy_for_functional", "active", "position"]
    inlines = [ModuleInline]


@admin.register(RaciRule)
class RaciRuleAdmin(admin.ModelAdmin):
    """Changing a letter here changes who may perform a step and who is notified: no code."""

    list_display = ["step", "role", "letter"]
    list_editable = ["letter"]
    list_filter = ["step", "role", "letter"]


@admin.register(HoursCard)
class HoursCardAdmin(admin.ModelAdmin):
    list_display = ["organisation", "hours", "purchased_on", "valid_until", "reference"]
    list_filter = ["organisation"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-only: tickets change through the desk's services, which keep clocks and history."""

    list_display = ["reference", "title", "organisation", "status", "priority", "registered_at"]
    list_filter = ["status", "kind", "service_level"]
    search_fields = ["title"]
    list_select_related = ["organisation"]
    show_full_result_count = False  # no COUNT(*) over a million tickets per page

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
