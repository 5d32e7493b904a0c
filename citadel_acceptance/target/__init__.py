"""The system under test: how the suite reaches a deployment or the embedded reference stack."""
