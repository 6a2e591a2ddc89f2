"""Solution to the exercise of notebooks/00_start_here.ipynb."""

ANSWERS = {
    "one chat completion from an LLM API": ("I/O", "asyncio"),
    "parsing 50 JSON replies of 4 MB each with json.loads": ("CPU", "ProcessPoolExecutor"),
    "a SQL query to a database server": ("I/O", "threading"),
    "tokenising a corpus of 100,000 documents in pure Python": ("CPU", "multiprocessing"),
    "1,000 embedding requests to an API": ("I/O", "asyncio"),
    "a NumPy product of two 4000×4000 matrices": ("CPU", "none"),  # BLAS already uses every CPU
}
