from django.urls import path

from launcher import views

urlpatterns = [
    path("kinderen/", views.children, name="children"),
]
