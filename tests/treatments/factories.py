import io

import factory
from PIL import Image

from treatments.models import Benefit, FAQItem, HowItWorksStep, Treatment


class TreatmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Treatment

    slug = factory.Sequence(lambda n: f"treatment-{n}")
    name = factory.Sequence(lambda n: f"Treatment {n}")
    summary = "A gentle treatment booked as a series."
    intro = "What this treatment is."
    how_it_works_intro = "How this treatment works."
    series_explanation = "Why it takes a series."


class BenefitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Benefit

    treatment = factory.SubFactory(TreatmentFactory)
    title = factory.Sequence(lambda n: f"Benefit {n}")
    body = "Can help."
    position = factory.Sequence(int)


class HowItWorksStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HowItWorksStep

    treatment = factory.SubFactory(TreatmentFactory)
    title = factory.Sequence(lambda n: f"Step {n}")
    body = "What happens."
    position = factory.Sequence(int)


class FAQItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FAQItem

    treatment = factory.SubFactory(TreatmentFactory)
    question = factory.Sequence(lambda n: f"Question {n}?")
    answer = factory.Sequence(lambda n: f"Answer {n}.")
    position = factory.Sequence(int)


def image_bytes(width: int, height: int, *, image_format: str = "JPEG", mode: str = "RGB") -> bytes:
    """A real picture made with Pillow: a colour gradient (half transparent in RGBA mode)."""
    tile = Image.new(mode, (8, 8))
    tile.putdata([(x * 32, y * 32, 128, 128)[: len(mode)] for y in range(8) for x in range(8)])
    image = tile.resize((width, height), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()
