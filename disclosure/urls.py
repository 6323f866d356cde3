from django.urls import path

from disclosure import views

app_name = "disclosure"
urlpatterns = [
    path("report/", views.report_create, name="report"),
    path("reports/", views.report_list, name="list"),
]
