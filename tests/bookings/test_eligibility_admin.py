"""Managers edit a treatment's eligibility rules in the admin: each save is a new version; old ones stay."""

import pytest
from django.urls import reverse

from bookings.models import AuditEvent, EligibilityRules
from tests.bookings.factories import eligibility_rules
from tests.bookings.staff_fixtures import *  # noqa: F403

ADD = reverse("admin:bookings_eligibilityrules_add")


def rows(*rules) -> dict:
    data = {
        "rules-TOTAL_FORMS": str(len(rules)), "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0", "rules-MAX_NUM_FORMS": "1000",
    }
    for index, rule in enumerate(rules):
        data |= {f"rules-{index}-{name}": value for name, value in rule.items()}
    return data


ISOTRETINOIN_12 = {"key": "isotretinoin", "kind": "wait", "reason": "after your last isotretinoin dose",
                   "wait_months": "12", "wait_days": "0"}


def test_saving_rules_publishes_a_new_version_and_keeps_the_old_one(client, manager, treatment):
    first = eligibility_rules(treatment)
    client.force_login(manager)

    prefilled = client.get(ADD, {"from": first.pk})
    response = client.post(ADD, {"treatment": treatment.pk, "note": "A year after isotretinoin",
                                 **rows(ISOTRETINOIN_12)})

    assert prefilled.status_code == 200 and "after a chemical peel, laser or IPL in the area" in prefilled.content.decode()
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    second = EligibilityRules.objects.get(treatment=treatment, version=2)
    assert [(r.key, r.wait_months) for r in second.rules.all()] == [("isotretinoin", 12)]
    assert first.rules.count() == 10  # untouched
    assert (second.created_by, AuditEvent.objects.filter(subject_id=second.pk, subject_kind="bookings.eligibilityrules").count()) == (manager, 1)


def test_a_published_version_cannot_be_changed_or_deleted(client, manager, treatment):
    version = eligibility_rules(treatment)
    client.force_login(manager)

    view = client.get(reverse("admin:bookings_eligibilityrules_change", args=[version.pk]))
    post = client.post(reverse("admin:bookings_eligibilityrules_change", args=[version.pk]), {"note": "x"})
    delete = client.get(reverse("admin:bookings_eligibilityrules_delete", args=[version.pk]))

    assert view.status_code == 200 and "Start a new version from this one" in view.content.decode()
    assert (post.status_code, delete.status_code) == (403, 403)


@pytest.mark.parametrize(("rule", "message"), [
    ({**ISOTRETINOIN_12, "wait_months": "0"}, "A waiting rule needs a wait"),
    ({**ISOTRETINOIN_12, "kind": "refer"}, "Only waiting rules have a wait"),
    ({**ISOTRETINOIN_12, "wait_months": "99"}, "less than or equal to 24"),
    ({**ISOTRETINOIN_12, "key": "astrology"}, "Select a valid choice"),
])
def test_a_rule_that_makes_no_sense_is_refused_with_a_sentence(client, manager, treatment, rule, message):
    client.force_login(manager)

    response = client.post(ADD, {"treatment": treatment.pk, **rows(rule)})

    assert response.status_code == 200 and message in response.content.decode()
    assert not EligibilityRules.objects.filter(treatment=treatment).exists()


def test_two_rules_for_one_question_are_refused(client, manager, treatment):
    client.force_login(manager)

    response = client.post(ADD, {"treatment": treatment.pk, **rows(ISOTRETINOIN_12, ISOTRETINOIN_12)})

    assert response.status_code == 200
    assert not EligibilityRules.objects.filter(treatment=treatment).exists()
