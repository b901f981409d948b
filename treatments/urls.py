from django.urls import path

from treatments import views

app_name = "treatments"

urlpatterns = [
    path("", views.home, name="home"),
    path("treatments/", views.treatment_list, name="list"),
    path("treatments/<slug:slug>/", views.treatment_detail, name="detail"),
    path("treatments/<slug:slug>/how-it-works/", views.treatment_how_it_works, name="how_it_works"),
    path("treatments/<slug:slug>/faq/", views.treatment_faq, name="faq"),
]
