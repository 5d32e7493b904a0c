"""Evidence for the report, redaction, results protection, and the handover verdict."""
