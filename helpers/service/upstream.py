"""The service's clients for the upstream LLM: ONE of each, shared by every request.

A client per request would open a connection pool per request (a TLS handshake each, against a
real endpoint). Async handlers share one AsyncOpenAI on aiohttp; sync handlers one OpenAI whose
httpx pool holds a connection per thread. The sync path costs CPU: about 10 ms per request at
1,000 in flight (httpx's pool and the thread switches), which weighs on any async-vs-threads
comparison beside the threads themselves.
"""

from __future__ import annotations

import httpx
import openai

from helpers.service.settings import ServiceSettings


def async_client(settings: ServiceSettings) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=settings.upstream_base_url, api_key=settings.upstream_api_key,
                              timeout=settings.upstream_timeout, max_retries=settings.upstream_max_retries,
                              http_client=openai.DefaultAioHttpClient())


def sync_client(settings: ServiceSettings) -> openai.OpenAI:
    size = max(settings.max_in_flight, settings.threads)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    return openai.OpenAI(base_url=settings.upstream_base_url, api_key=settings.upstream_api_key,
                         timeout=settings.upstream_timeout, max_retries=settings.upstream_max_retries,
                         http_client=openai.DefaultHttpxClient(limits=limits))
