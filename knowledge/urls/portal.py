from django.urls import path

from knowledge.views import portal

app_name = "portal_kb"
urlpatterns = [
    path("suggest", portal.suggest, name="suggest"),
    path("solved/", portal.solved, name="solved"),
    path("solved/<int:pk>/", portal.thanks, name="thanks"),
]
