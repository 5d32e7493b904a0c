"""The system under test: a base (what the suite may control), a real deployment, and the embedded reference stack."""
