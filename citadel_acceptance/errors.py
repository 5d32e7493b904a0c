"""Errors the suite raises for problems that are not product defects."""
from __future__ import annotations


class SuiteConfigError(Exception):
    """The run cannot start: a profile, option or secret is wrong. The message says how to fix it."""


class EnvironmentNotReady(Exception):
    """A part of the target is unreachable or not ready; scenarios that need it cannot run."""
