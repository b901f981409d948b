"""Settings for the benchmarks: the project's own settings, plus a bare view to compare pages with."""

from clinic.settings import *  # noqa: F403

ROOT_URLCONF = "bench._urls"
