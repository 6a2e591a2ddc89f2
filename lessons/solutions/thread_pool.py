"""Solution to the exercise of notebooks/02_threading.ipynb: 40 prompts, 8 threads, in order, one failure kept."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import openai


def fetch_all(ask: Callable[[str], str], prompts: Iterable[str], workers: int = 8) -> list[str | openai.APIError]:
    """Each prompt's answer, in the prompts' order; a call that failed leaves its exception in its slot."""

    def answer_or_error(prompt: str) -> str | openai.APIError:
        try:
            return ask(prompt)
        except openai.APIError as error:  # reported, not raised: the other answers are worth keeping
            return error

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(answer_or_error, prompts))  # map yields in input order, whatever finishes first
