"""Solution to the exercise of notebooks/01_gil.ipynb, for 4 threads on a machine with 2 usable CPUs.

On another machine only "hashing in C" changes: about min(4, CPUs)×.
"""

PREDICTIONS = {
    "pure-Python loop": 1.0,
    "hashing in C": 2.0,
    "LLM calls": 4.0,
}
