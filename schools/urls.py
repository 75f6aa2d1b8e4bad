from django.urls import path

from schools import views

urlpatterns = [
    path("leerling/<uuid:code>/foto", views.pupil_picture, name="pupil-picture"),
]
