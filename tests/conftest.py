"""Shared settings: hypothesis runs a modest number of examples without a
deadline, so the whole suite stays fast on a small CI machine."""
from hypothesis import HealthCheck, settings

settings.register_profile(
    "fastloss",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("fastloss")
