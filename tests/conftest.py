"""Fixtures: the real app with the models shipped in model/, and its test client."""

import pytest

from webapp import create_app


@pytest.fixture(scope="session")
def app():
    # Rate limits are off for the shared app: the suite sends thousands of requests from one
    # address. tests/test_ratelimits.py switches them on.
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False})
    yield app


@pytest.fixture()
def client(app):
    return app.test_client()
