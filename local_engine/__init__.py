"""An OpenAI-compatible HTTP server with small, real models, for offline use and tests.

It imports nothing from the app: the app reaches it only over HTTP through the SDK.
"""
