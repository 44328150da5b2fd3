"""Fixtures of the model tests."""

from __future__ import annotations

import pytest
from sklearn.model_selection import train_test_split


@pytest.fixture(scope="module")
def split(customers):
    """A stratified 75/25 train/test split of the real customers (fixed seed)."""
    return train_test_split(customers, test_size=0.25, random_state=0, stratify=customers["churn_flag"])
