"""A small suite the runner's build runs with pytest (`app.py`, `_warm_up_tests`), so that the
snapshot every test run starts from has pytest's configuration, collection, fixtures, assertion
rewriting and failure reports already specialised. Its results are thrown away."""

import unittest

import pytest


def double(x):
    return 2 * x


@pytest.fixture
def pair():
    return (1, 2)


@pytest.mark.parametrize("x, want", [(0, 0), (1, 2), (-3, -6), (2.5, 5.0)])
def test_parametrized(x, want):
    assert double(x) == want


def test_fixture_and_approx(pair):
    assert sum(pair) / 10 == pytest.approx(0.3)


def test_raises():
    with pytest.raises(ZeroDivisionError, match="division"):
        1 / 0


def test_capsys_and_monkeypatch(capsys, monkeypatch):
    monkeypatch.setattr("math.pi", 3)
    print("hello")
    assert capsys.readouterr().out == "hello\n"


def test_fails():
    got = {"a": [1, 2, 3], "b": "text"}
    assert got == {"a": [1, 2, 4], "b": "text"}


def test_errors():
    raise KeyError("missing")


@pytest.mark.skip(reason="warm-up")
def test_skipped():
    pass


class TestClass:
    def test_method(self):
        assert double("ab") == "abab"


class Case(unittest.TestCase):
    def test_equal(self):
        self.assertEqual(double(2), 4)
