"""Fixtures shared by the worker tests: the shipped bundle and worker cores built on it."""

from __future__ import annotations

import pytest

from actzero.model.bundle import Bundle
from actzero.stream.worker import WorkerConfig, WorkerCore


@pytest.fixture(scope="session")
def bundle() -> Bundle:
    return Bundle.load()


@pytest.fixture(scope="session")
def classifier(bundle: Bundle):
    """The bundle's own actions, fitted once for the whole session."""
    return bundle.fit_classifier(bundle.actions)


@pytest.fixture
def make_core(bundle: Bundle, classifier):
    """Worker cores with the bundle's actions (fitted once) and any WorkerConfig fields."""
    return lambda **config: WorkerCore(bundle, classifier=classifier, config=WorkerConfig(**config))
