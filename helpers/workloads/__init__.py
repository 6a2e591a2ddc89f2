"""The lessons' work and the concurrency patterns they run it with.

cpu_work (pure-Python CPU work, C work that releases the GIL, scoring an answer), gil (experiments
on the GIL itself), threads (one task on several threads), many_calls (a thread per call against a
task per call, at a thousand calls), process_pools and process_workers (what
a pool costs, and the functions its workers import), hybrid (concurrent calls, parallel analysis),
serving (many users under a rate limit), sweeps (more and more workers, and what changes),
rate_limits (a provider's limits per real minute on the simulator), retry_storm (many clients
retrying with and without jitter), answer_cache (repeated requests answered from memory).
"""
