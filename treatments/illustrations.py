"""The drawings that ship with the site (static/img/), with the text that stands in for them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Illustration:
    path: str  # under static/
    alt: str
    caption: str
    width: int
    height: int


ILLUSTRATIONS: dict[str, Illustration] = {
    "microneedling-benefits": Illustration(
        path="img/microneedling-benefits.svg",
        alt=(
            "Four panels, one for each area microneedling can improve: fine lines and wrinkles, "
            "stretch marks, acne scars, and skin texture and tone."
        ),
        caption="Four common reasons patients choose microneedling.",
        width=800,
        height=500,
    ),
    "microneedling-collagen": Illustration(
        path="img/microneedling-collagen.svg",
        alt=(
            "Three cross-sections of skin. First, fine needles make tiny channels in the outer layer. "
            "Next, the channels close as the skin heals. Last, new collagen and elastin fibres "
            "have formed beneath a smoother surface."
        ),
        caption="How tiny micro-channels set off the skin's own collagen-building repair.",
        width=900,
        height=420,
    ),
}

ILLUSTRATION_CHOICES = [(key, illustration.caption) for key, illustration in ILLUSTRATIONS.items()]
