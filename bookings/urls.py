from django.urls import path

from bookings import api, views, waitlist_views

app_name = "bookings"

urlpatterns = [
    path("book/<slug:slug>/", views.book_start, name="book"),
    path("book/<slug:slug>/series/", views.book_review, name="review"),
    path("book/<slug:slug>/details/", views.book_details, name="details"),
    path("book/<slug:slug>/booked/", views.book_done, name="done"),
    path("bookings/manage/<str:token>/", views.manage, name="manage"),
    path("bookings/manage/<str:token>/calendar.ics", views.manage_calendar, name="manage_calendar"),
    path("bookings/manage/<str:token>/sessions/<int:number>/move/", views.manage_move, name="manage_move"),
    path("bookings/manage/<str:token>/sessions/<int:number>/cancel/", views.manage_cancel, name="manage_cancel"),
    path(
        "bookings/manage/<str:token>/sessions/<int:number>/cancel-rest/",
        views.manage_cancel_rest,
        name="manage_cancel_rest",
    ),
    path("bookings/manage/<str:token>/sessions/<int:number>/book/", views.manage_book, name="manage_book"),
    path(
        "bookings/manage/<str:token>/sessions/<int:number>/answers/",
        views.manage_answers,
        name="manage_answers",
    ),
    path(
        "bookings/manage/<str:token>/sessions/<int:number>/sooner/",
        waitlist_views.manage_sooner,
        name="manage_sooner",
    ),
    path(
        "bookings/manage/<str:token>/sessions/<int:number>/sooner/withdraw/",
        waitlist_views.manage_sooner_withdraw,
        name="manage_sooner_withdraw",
    ),
    path("bookings/offers/<str:token>/", waitlist_views.offer, name="offer"),
    path("book/<slug:slug>/waitlist/", waitlist_views.waitlist_join, name="waitlist_join"),
    path("api/availability/", api.availability_list, name="api_availability"),
    path("api/series/", api.series_create, name="api_series"),
]
