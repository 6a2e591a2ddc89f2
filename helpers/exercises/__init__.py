"""The automatic checks behind the notebooks' exercises, one module per notebook.

Each check returns a `CheckReport`: every line says what is right or what is wrong and how to
fix it. A report never raises for a wrong answer: a learner is learning, not being graded.
"""
