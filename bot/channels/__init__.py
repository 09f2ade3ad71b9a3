import os

# Opt in to PTB 22's timedelta time periods (RetryAfter.retry_after and friends) before any
# telegram module is imported; this also silences the deprecation warning on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "true")
