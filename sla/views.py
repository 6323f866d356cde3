"""Pages of support managers: the SLA dashboard."""

from django.shortcuts import render

from accounts.permissions import manager_required


@manager_required
def dashboard(request):
    return render(request, "sla/dashboard.html")
