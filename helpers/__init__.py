"""Helpers for the course: the simulated LLM server, timing instruments and live widgets.

Learners read this package too. Each module does one thing and says why in its docstring.
"""
