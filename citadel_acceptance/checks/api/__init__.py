"""The OpenAI-compatible API: chat, streaming, the model list, health, the official client, the journey."""
