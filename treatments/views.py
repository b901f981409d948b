"""The explainer: home, the treatment list, and each treatment's overview, how-it-works and FAQ."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from treatments import selectors, structured_data
from treatments.caching import explainer_page_cache


@require_safe
@explainer_page_cache
def home(request):
    # Opening hours come from working hours, which do not bump the page's version: a change shows
    # here when the cached page expires (caching.PAGE_TIMEOUT) or the next treatment edit.
    treatments = list(selectors.treatments_listed())
    clinic = structured_data.medical_clinic(
        url=request.build_absolute_uri("/"), treatments=treatments, hours=selectors.opening_hours()
    )
    return render(request, "home.html", {"treatments": treatments, "structured_data": clinic})


@require_safe
@explainer_page_cache
def treatment_list(request):
    return render(request, "treatments/treatment_list.html", {"treatments": selectors.treatments_listed()})


def _page_context(request, treatment, *, page: str, title: str, steps=()) -> dict:
    url = request.build_absolute_uri(request.path)
    data = (
        structured_data.faq_page(treatment, url=url)
        if page == "faq"
        else structured_data.medical_web_page(treatment, url=url, name=title, steps=steps)
    )
    return {"treatment": treatment, "page": page, "page_title": title, "structured_data": data}


@require_safe
@explainer_page_cache
def treatment_detail(request, slug):
    treatment = selectors.treatment_overview(slug=slug)
    context = _page_context(request, treatment, page="overview", title=treatment.name)
    images = list(treatment.images.all())
    context["hero_images"] = [image for image in images if image.role == image.Role.HERO]
    context["benefit_images"] = [image for image in images if image.role == image.Role.BENEFITS]
    return render(request, "treatments/treatment_detail.html", context)


@require_safe
@explainer_page_cache
def treatment_how_it_works(request, slug):
    treatment = selectors.treatment_how_it_works(slug=slug)
    steps = list(treatment.steps.all())
    title = f"How {treatment.name.lower()} works"
    context = _page_context(request, treatment, page="how", title=title, steps=steps)
    return render(request, "treatments/treatment_how_it_works.html", context)


@require_safe
@explainer_page_cache
def treatment_faq(request, slug):
    treatment = selectors.treatment_faq(slug=slug)
    title = f"{treatment.name}: questions and answers"
    context = _page_context(request, treatment, page="faq", title=title)
    return render(request, "treatments/treatment_faq.html", context)
