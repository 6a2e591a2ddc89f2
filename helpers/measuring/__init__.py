"""Record what happened and when, so a lesson can measure it and draw it.

spans (a Recorder of labelled time spans, the unit everything else draws), stopwatch (time a
piece of work, fastest of a few runs), periodic (a background sampler), recorded_calls (an
`openai` client whose calls land on a timeline), recorded_pool (a process pool whose tasks do),
cpu_meter, server_monitor and loop_lag (what the CPUs, the simulated server and the event loop
were doing meanwhile), backlog (how many items waited in a queue), percentiles (the typical
latency and the tail: p50, p95, p99), prometheus_text (a service's /metrics scraped, summed, and
its latency quantiles by Prometheus' rule).
"""
