"""Helpers for the course: the simulated LLM server, timing instruments and live widgets.

Learners read this package too. Each subpackage holds one concern, each module does one thing
and says why in its docstring:

    llm_server/   the simulated, OpenAI-compatible LLM server: start it, configure it, read its journal
    batch/        the batch runner: a Batch API file of requests, paced, retried, resumable (`llm-batch`)
    loadgen/      many users at once: closed-loop users and open-loop arrivals, cheap per request (`llm-course-load`)
    service/      lesson 08's LLM service: FastAPI on uvicorn, a gate, a bounded queue, a cache (`llm-course-service`)
    measuring/    record what happened and when: spans, stopwatches, samplers, recorded clients and pools
    drawing/      show it: timelines (static and live), the experiment panel, streamed answers, formats
    claims/       what this machine allows (CPUs, GIL, start method, pauses) and the checks of every claim
    workloads/    the lessons' work and patterns: CPU work, threads, process pools, hybrid, serving, sweeps
    agents/       workflows and agents: a graph of steps, hedged requests, a shared rate, tools and the agent loop
    exercises/    the automatic checks behind each notebook's exercises
    mode.py       which of the three modes runs (learner, test, real endpoint) and the sizes that follow
"""
