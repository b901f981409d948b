from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from clinic import views
from treatments.sitemaps import SITEMAPS

admin.site.site_header = "Clinic administration"

urlpatterns = [
    path("", include("treatments.urls")),
    path("", include("bookings.urls")),
    path("privacy/", views.privacy, name="privacy"),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("staff/", include("staff.urls")),
    path("admin/", admin.site.urls),
]
# Uploaded pictures while developing (static() is empty when DEBUG is off: the web server serves
# MEDIA_ROOT at MEDIA_URL in production).
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "clinic.views.page_not_found"
handler500 = "clinic.views.server_error"
