from django.urls import path

from sla import views

app_name = "manager"
urlpatterns = [
    path("", views.dashboard, name="home"),
]
