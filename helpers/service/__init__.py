"""An LLM service learners would write at work: FastAPI on uvicorn, in front of an upstream LLM.

    service = start_service(server, max_in_flight=32, max_queue=128)   # a child process
    service.client().chat.completions.create(model=..., messages=[...])

settings (ServiceSettings: the gate, the queue, the cache, async or sync handlers, workers),
admission (the gate on upstream calls and the bounded queue: 503 + Retry-After beyond it),
cache (LRU answers with single flight), upstream (the ONE shared client), metrics (/metrics,
the names ServiceBoard reads), app (build_app: the endpoints and OpenAI-shaped errors),
cli (`llm-course-service`), launcher (start_service, ServiceHandle).
"""

from helpers.service.launcher import ServiceHandle, start_service
from helpers.service.settings import ServiceSettings

__all__ = ["ServiceHandle", "ServiceSettings", "start_service"]
