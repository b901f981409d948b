"""Prices for people: "£180", "£1,250", "£99.50", in the clinic's currency (settings.CURRENCY)."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}


def money(amount: Decimal | int, currency: str | None = None) -> str:
    """Whole amounts without pence; thousands grouped; an unknown currency by its code ("CHF 180")."""
    currency = (currency or settings.CURRENCY).upper()
    amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    number = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{currency} {number}"
