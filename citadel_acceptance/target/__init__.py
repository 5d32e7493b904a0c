"""The system under test: a base (endpoints, secrets, what the suite may control) and two adapters, a real
deployment and the embedded reference stack (`embedded`, the only module of the suite that imports citadel_stack)."""
