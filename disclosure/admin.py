from django.contrib import admin

from disclosure.models import VulnerabilityReport


@admin.register(VulnerabilityReport)
class VulnerabilityReportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "summary", "reporter_email", "client_address"]
    search_fields = ["summary", "details", "reporter_email"]
    readonly_fields = [field.name for field in VulnerabilityReport._meta.fields]
