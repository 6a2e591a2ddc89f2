"""Workflows and agents (lesson 07): where concurrency pays inside one agent's work.

graph (a workflow as steps that each start when their needs have ended, and its critical path),
hedging (a second request when the first is slow; the first answer wins, the loser is cancelled),
shared_limit (one rate for many agents), toolbox (tools the model may call, run one by one or
concurrently), tool_loop (the agent loop: ask, run the tools asked for, ask again), lesson_tools
(the lesson's two tools: a search that waits on I/O, a check that computes on a process pool).
"""
