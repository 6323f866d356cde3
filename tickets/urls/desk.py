from django.urls import path

from tickets.views import desk

app_name = "desk"
urlpatterns = [
    path("", desk.queue, name="queue"),
    path("consultancy/", desk.consultancy, name="consultancy"),
]
