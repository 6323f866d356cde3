"""The satisfaction question behind the link in the resolution and closing mails (issue 17):
no login, one answer per ticket. A link that was altered or has expired gets a page that says
so (400/410), never an error; a second answer is thanked and changes nothing."""

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from tickets import services
from tickets.forms import SatisfactionForm
from tickets.models import SatisfactionRating
from tickets.services.satisfaction import is_ratable, rating_ticket_from_token


@never_cache
def rate(request, token: str):
    try:
        ticket = rating_ticket_from_token(token)
    except services.RatingLinkInvalid as exc:
        status = 410 if exc.expired else 400
        return render(request, "tickets/rate.html", {"problem": str(exc)}, status=status)
    context = {"ticket": ticket, "action_url": request.path}
    rating = SatisfactionRating.objects.filter(ticket=ticket).first()
    if rating is not None:
        return render(request, "tickets/rate.html", {**context, "rating": rating, "already": True})
    if not is_ratable(ticket):
        problem = _("This ticket is no longer resolved, so there is nothing to rate now.")
        return render(request, "tickets/rate.html", {**context, "problem": problem}, status=409)
    form = SatisfactionForm(request.POST or None, auto_id="id_rate_%s")
    if request.method == "POST" and form.is_valid():
        try:
            rating = services.satisfaction_rate(
                ticket=ticket,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                via_link=True,
            )
        except services.AlreadyRated as exc:
            return render(request, "tickets/rate.html", {**context, "rating": exc.rating, "already": True})
        return render(request, "tickets/rate.html", {**context, "rating": rating, "thanked": True})
    status = 400 if request.method == "POST" else 200
    return render(request, "tickets/rate.html", {**context, "form": form}, status=status)
