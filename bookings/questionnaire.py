"""
The safety questionnaire asked before a series (and re-confirmed before each session).

A "yes" to any question does not refuse the booking: it holds the series for a practitioner's
review, and the patient is told so plainly. The questions are the clinic's safety screen for every
treatment, in words true of any of them; changing them means bumping WORDING_VERSION, so every stored
answer keeps the version its patient actually read. The consent to treatment is the treatment's own
(Treatment.consent_text, edited in the admin) and is stored with each booking as the patient read it.
"""

from dataclasses import dataclass

WORDING_VERSION = "2026-12"


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    why: str  # shown to the patient when the answer holds the booking for review


QUESTIONS: tuple[Question, ...] = (
    Question(
        "pregnant",
        "Are you pregnant or breastfeeding?",
        "We do not offer this treatment during pregnancy or breastfeeding without a practitioner's advice.",
    ),
    Question(
        "isotretinoin",
        "Have you taken isotretinoin (for example Roaccutane or Accutane) in the last 6 months?",
        "Skin heals differently for several months after isotretinoin.",
    ),
    Question(
        "active_skin_condition",
        "Do you have an active acne flare, cold sore or skin infection in the area to be treated?",
        "Treating broken or infected skin can spread the infection.",
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
