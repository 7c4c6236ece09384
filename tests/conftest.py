"""Shared settings: hypothesis runs a modest number of examples without a
deadline, so the whole suite stays fast on a small CI machine.
FASTLOSS_HYPOTHESIS_MAX_EXAMPLES changes the count (.ci/run lowers it for
its repeated runs of the installed wheel)."""
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "fastloss",
    max_examples=int(os.environ.get("FASTLOSS_HYPOTHESIS_MAX_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("fastloss")
