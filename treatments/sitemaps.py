"""sitemap.xml: the home page, the treatment list and the three pages of each published treatment."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from treatments.models import Treatment

TREATMENT_PAGES = ("treatments:detail", "treatments:how_it_works", "treatments:faq")


class IndexSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return ["treatments:home", "treatments:list"]

    def location(self, item):
        return reverse(item)


class TreatmentPagesSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        treatments = Treatment.objects.published().only("slug", "updated_at", "position", "name")
        return [(treatment, page) for treatment in treatments for page in TREATMENT_PAGES]

    def location(self, item):
        treatment, page = item
        return reverse(page, kwargs={"slug": treatment.slug})

    def lastmod(self, item):
        return item[0].updated_at


SITEMAPS = {"index": IndexSitemap, "treatments": TreatmentPagesSitemap}
