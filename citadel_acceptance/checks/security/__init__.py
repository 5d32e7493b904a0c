"""Security (SC5): authentication, roles, isolation, limits, TLS, headers, audit chain, fuzzing."""
