"""Selenium scrapers that produce Seoul store and digital-learning-centre locations.

Not built yet: the scrapers, their page objects and the geocoders arrive with the
locations issue. Until then the raw November 2023 lists live in the shared data folder.
"""
