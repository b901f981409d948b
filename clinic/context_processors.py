from django.conf import settings


def clinic(request):
    """The clinic's name and contact details, for the layout and footers."""
    return {
        "clinic": {
            "name": settings.CLINIC_NAME,
            "phone": settings.CLINIC_PHONE,
            "email": settings.CLINIC_EMAIL,
            "address": settings.CLINIC_ADDRESS,
        }
    }
