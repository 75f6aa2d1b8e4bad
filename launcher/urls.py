from django.urls import path

from launcher import views

urlpatterns = [
    path("kinderen/", views.children, name="children"),
    path("kind/<uuid:code>/", views.child_login, name="child-login"),
    path("software/", views.software, name="software"),
    path("software/<uuid:code>/openen/", views.launch, name="launch"),
    path("software/<uuid:code>/gestart/", views.launched, name="launched"),
    path("klaar/", views.done, name="done"),
]
