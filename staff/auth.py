"""Signing in and out of the staff workspace (rate-limited), and lifting a sign-in pause (managers)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from bookings import ratelimits
from bookings.audit import SYSTEM, audit_record
from bookings.models import AuditEvent
from staff.access import staff_only
from staff.forms import SignInUnlockForm, StaffLoginForm


# --- Signing in ------------------------------------------------------------------------------------


class StaffLoginView(auth_views.LoginView):
    """The staff sign-in page; too many attempts answer 429 with a sentence, not a lock-out of everyone."""

    template_name = "staff/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True
    next_page = reverse_lazy("staff:day")

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.rate_limited:
            response.status_code = 429
        return response


class StaffLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("staff:login")


# --- Sign-in locks (managers) ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_only("bookings.lift_signin_lock")
def signin_locks(request):
    """The usernames whose sign-in is paused after failed attempts; lift one (audited)."""
    form = SignInUnlockForm(request.POST or None)
    if form.is_valid():
        username = form.cleaned_data["username"]
        User = get_user_model()
        user = User.objects.filter(username__iexact=username).first() or User(username=username)
        with transaction.atomic():
            audit_record(
                action=AuditEvent.Action.SIGNIN_UNLOCKED,
                changes=[(user, {"username": username})],
                after={"username": username, "unlocked": True},
                by=request.user,
                default_actor=SYSTEM,
                at=timezone.now(),
            )
            was_paused = ratelimits.signin_unlock(username)
        state = "was paused and" if was_paused else "was not paused, and"
        messages.success(request, f"{username} {state} can sign in again.")
        return redirect("staff:signin_locks")
    return render(
        request,
        "staff/signin_locks.html",
        {"form": form, "locks": ratelimits.signin_locks()},
        status=400 if form.errors else 200,
    )
