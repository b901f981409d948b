"""
The safety questionnaire asked before a series (and re-confirmed before each session).

A "yes" to any question does not refuse the booking: it holds the series for a practitioner's
review, and the patient is told so plainly. The questions are the clinic's safety screen for every
treatment, in words true of any of them; changing them means bumping WORDING_VERSION, so every stored
answer keeps the version its patient actually read. The consent to treatment is the treatment's own
(Treatment.consent_text, edited in the admin) and is stored with each booking as the patient read it.
"""

from dataclasses import dataclass

WORDING_VERSION = "2027-01"  # 2027-01: peel, toxin, filler, skin cancer, chemotherapy; dates with a yes

PAST, FUTURE = "past", "future"


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    why: str  # shown to the patient when the answer holds the booking for review
    # A "yes" asks for a date (issue 13): the eligibility rules count from it. PAST: a day within the
    # last `within_days` (the question's own "in the last ..."); FUTURE: a day within the next `within_days`.
    date_label: str = ""
    date_when: str = PAST
    within_days: int = 0
    date_required: bool = True


QUESTIONS: tuple[Question, ...] = (
    Question(
        "pregnant",
        "Are you pregnant or breastfeeding?",
        "We do not offer this treatment during pregnancy or breastfeeding without a practitioner's advice.",
    ),
    Question(
        "isotretinoin",
        "Have you taken isotretinoin (for example Roaccutane or Accutane) in the last 12 months?",
        "Skin heals differently for several months after isotretinoin.",
        date_label="If yes: the date of your last dose",
        within_days=366,
    ),
    Question(
        "peel_laser",
        "Have you had a chemical peel, laser or IPL treatment in the area in the last 3 months?",
        "Skin needs time to recover between treatments.",
        date_label="If yes: the date of the last one",
        within_days=92,
    ),
    Question(
        "toxin",
        "Have you had toxin injections (for example Botox) in the last 3 months?",
        "Treating the area soon after injections can move the product.",
        date_label="If yes: the date of the last injections",
        within_days=92,
    ),
    Question(
        "filler",
        "Have you had filler in the area to be treated in the last 3 months?",
        "Filler needs time to settle before the area is treated.",
        date_label="If yes: the date of the last filler",
        within_days=92,
    ),
    Question(
        "active_skin_condition",
        "Do you have an active acne flare, cold sore or skin infection in the area to be treated?",
        "Treating broken or infected skin can spread the infection.",
        date_label="If yes and you know: the day you expect it to have healed",
        date_when=FUTURE,
        within_days=92,
        date_required=False,
    ),
    Question(
        "keloid",
        "Have you ever had keloid or raised scarring?",
        "Some people who form raised scars need a different plan.",
    ),
    Question(
        "blood_thinners",
        "Do you take blood thinners, or have a bleeding disorder?",
        "These can increase bleeding and bruising during treatment.",
    ),
    Question(
        "skin_cancer",
        "Have you had skin cancer in the area to be treated?",
        "A practitioner needs to look at the area and your history first.",
    ),
    Question(
        "chemo_radio",
        "Are you having, or have you recently had, chemotherapy or radiotherapy?",
        "Treatment can affect how your skin heals.",
    ),
)

QUESTIONS_BY_KEY = {question.key: question for question in QUESTIONS}


def questions_for(treatment) -> tuple[Question, ...]:
    """The questions `treatment` asks (Treatment.safety_questions), in the usual order; None: all."""
    chosen = getattr(treatment, "safety_questions", None)
    if chosen is None:
        return QUESTIONS
    return tuple(question for question in QUESTIONS if question.key in chosen)

CONSENT_PRIVACY_TEXT = (
    "I agree that the clinic stores my contact details and these health answers to plan and "
    "deliver my treatment, as described in the privacy notice."
)


def flagged_keys(answers: dict[str, bool]) -> list[str]:
    """Keys of the answers that hold a booking for a practitioner's review, in question order."""
    return [question.key for question in QUESTIONS if answers.get(question.key) is True]
