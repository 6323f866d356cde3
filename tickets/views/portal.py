"""The customers' self-service portal."""

from django.shortcuts import render

from accounts.permissions import customer_required


@customer_required
def home(request):
    return render(request, "tickets/portal_home.html", {"organisation": request.user.organisation})
