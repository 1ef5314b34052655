"""Benchmarks print figures; they drive one client hard, so request rate limits are generous
here (set in the environment, inherited by the servers they start) unless a benchmark measures
them: ``bench.abuse_rate`` starts its server with the defaults."""

import os

from api.settings import RATE_SETTINGS

for _name in sorted(RATE_SETTINGS):
    if _name.startswith("rate_limit_"):
        os.environ.setdefault(f"HOLOMATE_{_name.upper()}", "100000/second")
