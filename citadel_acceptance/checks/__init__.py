"""What the suite checks, one package per domain: probe modules measure, verdicts modules judge."""
