"""Search pages: ``/desk/search/`` for support staff, ``/portal/search/`` for customers. The
same ranked hits (tickets/search.py), scoped to what the user may see."""

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.permissions import customer_required, staff_required
from tickets.choices import Priority, TicketKind, TicketStatus
from tickets.search import MAX_OFFSET, MAX_QUERY_LENGTH, SearchError, search_tickets

PAGE_SIZE = 25
MAX_PAGE = MAX_OFFSET // PAGE_SIZE + 1

WHERE = {
    "number": _("number"),
    "title": _("title"),
    "reference": _("bug reference"),
    "requester": _("requester"),
    "organisation": _("organisation"),
    "description": _("description"),
    "message": _("message"),
    "note": _("internal note"),
}


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search tickets"), max_length=MAX_QUERY_LENGTH, required=False)
    page = forms.IntegerField(min_value=1, max_value=MAX_PAGE, required=False)


def _search_page(request, *, template: str, detail_url: str):
    form = SearchForm(request.GET)
    result, status, page = None, 200, 1
    if form.is_valid():
        page = form.cleaned_data["page"] or 1
        try:
            result = search_tickets(
                request.user, form.cleaned_data["q"], limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
            )
        except SearchError as exc:
            form.add_error(None, str(exc))
            status = 400
    else:
        status = 400
    rows = []
    for hit in result.hits if result else ():
        rows.append(
            {
                "hit": hit,
                "where": [WHERE[label] for label in hit.where],
                "status": TicketStatus(hit.status).label if hit.status in TicketStatus.values else hit.status,
                "priority": Priority(hit.priority).label if hit.priority in Priority.values else hit.priority,
                "kind": TicketKind(hit.kind).label if hit.kind in TicketKind.values else hit.kind,
            }
        )
    context = {
        "form": form,
        "result": result,
        "rows": rows,
        "page_number": page,
        "detail_url": detail_url,
        "previous_page": page - 1 if result and result.has_previous else None,
        "next_page": page + 1 if result and result.has_next and page < MAX_PAGE else None,
    }
    return render(request, template, context, status=status)


@staff_required
def desk_search(request):
    """Every ticket, internal notes included."""
    return _search_page(request, template="tickets/search_desk.html", detail_url="desk:detail")


@customer_required
def portal_search(request):
    """The organisation's own tickets and their public messages."""
    return _search_page(request, template="tickets/search_portal.html", detail_url="portal:detail")
