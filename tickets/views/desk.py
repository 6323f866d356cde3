"""The support desk: the queue for agents, consultancy for consultants."""

from django.shortcuts import render

from accounts.permissions import staff_required


@staff_required
def queue(request):
    return render(request, "tickets/desk_queue.html")


@staff_required
def consultancy(request):
    return render(request, "tickets/desk_consultancy.html")
