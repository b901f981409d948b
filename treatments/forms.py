from django import forms

from treatments.images import image_upload_check
from treatments.models import TreatmentImage


class CheckedImageField(forms.ImageField):
    """An image field that explains why a file is refused (damaged, not a picture, too big)."""

    def to_python(self, data):
        if data:
            image_upload_check(data)
        return super().to_python(data)


class TreatmentImageForm(forms.ModelForm):
    image = CheckedImageField(
        help_text="A JPEG, PNG or WebP photo. Smaller copies for phones and screens are made on save."
    )

    class Meta:
        model = TreatmentImage
        fields = ["image", "alt_text", "caption", "role", "position"]
