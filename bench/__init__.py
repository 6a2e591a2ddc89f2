"""Benchmarks of the simulated LLM server against a bare aiohttp reference: `make bench`; see README.md here."""
