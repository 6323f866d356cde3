"""Suggestions while a coordinator registers a ticket, and "This solved it": the deflection
is counted and no ticket is registered."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import customer_required
from knowledge import selectors, services
from knowledge.forms import SolvedForm
from knowledge.models import Deflection


def _coordinator(request) -> None:
    if request.user.role != Role.COORDINATOR:
        raise PermissionDenied(_("Only your organisation's coordinators register tickets."))


@customer_required
def suggest(request):
    """A small HTML fragment for the registration form's side panel (static/js/kb_suggest.js)."""
    _coordinator(request)
    text = request.GET.get("q", "")
    title = request.GET.get("title", "")[:200]
    if len(text) > 2000:
        return render(request, "knowledge/_suggestions.html", {"too_long": True}, status=400)
    articles = selectors.article_suggestions(user=request.user, text=text)
    return render(request, "knowledge/_suggestions.html", {"articles": articles, "title": title, "q": text})


@require_POST
@customer_required
def solved(request):
    _coordinator(request)
    form = SolvedForm(request.POST, articles=selectors.article_visible_to(request.user))
    if not form.is_valid():
        return render(request, "knowledge/solved.html", {"form": form}, status=400)
    try:
        deflection = services.deflection_record(
            article=form.cleaned_data["article"], by=request.user, title_typed=form.cleaned_data["title"]
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return render(request, "knowledge/solved.html", {"form": form}, status=400)
    return redirect("portal_kb:thanks", pk=deflection.pk)


@customer_required
def thanks(request, pk: int):
    """The end of a registration an article prevented."""
    deflection = Deflection.objects.filter(pk=pk, user=request.user).select_related("article").first()
    if deflection is None:
        return redirect("portal:home")
    return render(request, "knowledge/solved.html", {"deflection": deflection})
