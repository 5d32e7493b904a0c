"""The embedded Citadel reference stack: PostgreSQL, a llama.cpp model service and the reference gateway."""
