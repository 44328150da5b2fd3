"""Selenium scrapers (page-object style) for KT stores and 디지털배움터 education places.

``scrapers.driver`` makes a headless Debian Chromium driver, ``scrapers.pages`` holds the
page objects (every locator in one place), ``scrapers.run`` the polite, resumable runner,
and ``scrapers.cli`` the ``churn-locations`` command (scrape → normalise → geocode →
write ``data/locations/``). Normalising and geocoding live in :mod:`churn_core.geo.locations`.
"""
