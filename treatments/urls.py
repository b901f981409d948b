from django.urls import path

app_name = "treatments"

urlpatterns: list = []
