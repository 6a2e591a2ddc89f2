"""Show what was measured: pictures for people who would rather look than read.

timeline (spans as a Gantt chart, with strips such as a CPU meter under it), live_timeline (the
same chart growing while the experiment runs), experiment_panel (sliders, a Run button and the
last run's timeline), stream_board (streamed answers side by side), rates (events per second
against a rate limit), service_board (a service's /metrics drawn live while a load runs),
workflows (a workflow's wall time against its gate, latency tails compared),
formatting (the one way the course prints a duration, a ratio or a rate).
"""
