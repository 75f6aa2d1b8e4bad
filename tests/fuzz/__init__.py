"""Property-based tests of every form and upload (Hypothesis): never a server error, never
anything half-saved. Quick and deterministic by default (part of ``make test``); ``make fuzz``
runs thousands of random inputs per test (see conftest.py for the profiles)."""
