"""The reference Citadel gateway: an OpenAI-compatible FastAPI app in front of the model services.

Run it with ``python -m citadel_stack.gateway --config PATH`` (see ``config.py`` for the file).
"""
