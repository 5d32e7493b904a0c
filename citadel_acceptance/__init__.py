"""Citadel MVP-2 acceptance library: profiles, targets, probes, verdicts and evidence.

Step definitions call this package; it never imports behave.
"""
