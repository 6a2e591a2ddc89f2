"""Deterministic answers that read like answers, and the token-counting rule.

No model, no download: sentences about the prompt's topic are drawn from a small built-in
corpus in an order set by a hash of (seed, messages). "in 50 words" and "a haiku" set the
length roughly. Tokens are counted offline with one documented rule: every word and every
punctuation mark is one token (real tokenisers give a similar count for English prose).
"""

from __future__ import annotations

import hashlib
import re
from itertools import islice

TOKEN = re.compile(r"\w+|[^\w\s]")
PIECE = re.compile(rf"\s*(?:{TOKEN.pattern})")  # a token with the spaces before it: the same counting rule

CORPUS: dict[str, list[str]] = {
    "concurrency": [
        "Concurrency lets one worker make progress on many tasks by switching while each one waits.",
        "Parallelism runs several tasks at the same instant on separate cores.",
        "An event loop resumes whichever task has data ready.",
        "Threads share memory, so shared state needs a lock.",
        "Processes have separate memory and talk through pipes.",
    ],
    "ai": [
        "Artificial intelligence builds systems that learn patterns from data to make predictions.",
        "A language model predicts the next token from the tokens before it.",
        "Training adjusts millions of weights to reduce a loss.",
        "Inference runs the trained model on new input.",
    ],
    "quantum": [
        "Quantum computing uses qubits that hold superpositions of zero and one.",
        "Entanglement links qubits so measuring one constrains the other.",
        "Quantum algorithms such as Shor's factor numbers faster than known classical ones.",
        "Noise and decoherence limit today's quantum machines.",
    ],
    "robots": [
        "Steel hands fold the dawn.",
        "A robot hums in the quiet hall.",
        "Sensors blink like patient stars.",
        "Gears remember every turn.",
    ],
    "neural": [
        "A neural network stacks layers of weighted sums followed by nonlinear functions.",
        "Backpropagation computes how each weight affects the loss.",
        "Deep networks learn features from raw data.",
        "Attention lets a model weigh the parts of its input.",
    ],
    "reinforcement": [
        "Reinforcement learning trains an agent by rewarding good actions.",
        "The agent balances exploring new actions with exploiting known ones.",
        "A policy maps states to actions.",
        "Value functions estimate future reward.",
    ],
    "general": [
        "Here is a short answer to your question.",
        "The key idea is to break the problem into smaller steps.",
        "Each step can be checked on its own.",
        "Measure before you optimise.",
        "Simple designs are easier to reason about.",
    ],
}
TOPIC_WORDS = {
    "concurrency": ("concurren", "parallel", "thread", "async", "process"),
    "ai": (" ai", "artificial", "language model", "llm"),
    "quantum": ("quantum",),
    "robots": ("robot", "haiku"),
    "neural": ("neural", "network", "deep learning"),
    "reinforcement": ("reinforcement", "reward", "agent"),
}
DEFAULT_WORDS = 60
WORDS_IN = {sentence: len(sentence.split()) for sentences in CORPUS.values() for sentence in sentences}


def count_tokens(text: str) -> int:
    """The simulator's token count: words and punctuation marks."""
    return len(TOKEN.findall(text))


def tokens_of(text: str, at_most: int | None = None) -> list[str]:
    """Split an answer into the pieces a stream sends, keeping the spaces so they join back exactly.

    With `at_most`, only the first pieces: a request for one token then costs two matches (the
    second says there was more), not the seventy of a whole answer, and the server answers
    thousands of such requests a second in `make bench`.
    """
    pieces = PIECE.finditer(text)
    return [piece.group() for piece in (pieces if at_most is None else islice(pieces, at_most))]


def topic_of(prompt: str) -> str:
    lowered = f" {prompt.lower()}"
    for topic, words in TOPIC_WORDS.items():
        if any(word in lowered for word in words):
            return topic
    return "general"


def wanted_words(prompt: str) -> int:
    lowered = prompt.lower()
    if "haiku" in lowered:
        return 12
    if match := re.search(r"(\d+)\s*words?", lowered):
        return max(1, min(2000, int(match.group(1))))
    return DEFAULT_WORDS


def shuffled(sentences: list[str], digest: bytes) -> list[str]:
    """The sentences in an order that only `digest` decides: each is ranked by the hash of both.

    A seeded `random.Random` would do the same, but setting up its 2.5 kB of state costs more than
    the rest of an answer, and the server builds thousands of answers a second under load.
    """
    return sorted(sentences, key=lambda sentence: hashlib.sha256(digest + sentence.encode()).digest())


def answer(prompt: str, seed: int | None, choice: int = 0) -> str:
    """An answer of about the wanted length on the prompt's topic, the same for the same inputs."""
    digest = hashlib.sha256(f"{seed}:{choice}:{prompt}".encode()).digest()
    sentences = shuffled(CORPUS[topic_of(prompt)], digest)
    wanted = wanted_words(prompt)
    picked: list[str] = []
    words = 0
    while words < wanted:  # cycle through the shuffled sentences: no early repeats
        sentence = sentences[len(picked) % len(sentences)]
        picked.append(sentence)
        words += WORDS_IN[sentence]
    separator = "\n" if "haiku" in prompt.lower() else " "
    return separator.join(picked)
