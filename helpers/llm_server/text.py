"""Deterministic answers that read like answers, and the token-counting rule.

No model, no download: sentences about the prompt's topic are drawn from a small built-in
corpus with a random stream seeded by (seed, messages). "in 50 words" and "a haiku" set the
length roughly. Tokens are counted offline with one documented rule: every word and every
punctuation mark is one token (real tokenisers give a similar count for English prose).
"""

from __future__ import annotations

import hashlib
import random
import re

TOKEN = re.compile(r"\w+|[^\w\s]")

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


def count_tokens(text: str) -> int:
    """The simulator's token count: words and punctuation marks."""
    return len(TOKEN.findall(text))


def tokens_of(text: str) -> list[str]:
    """Split an answer into the pieces a stream sends, keeping the spaces so they join back exactly."""
    return re.findall(r"\s*(?:\w+|[^\w\s])", text)


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


def answer(prompt: str, seed: int | None, choice: int = 0) -> str:
    """An answer of about the wanted length on the prompt's topic, the same for the same inputs."""
    digest = hashlib.sha256(f"{seed}:{choice}:{prompt}".encode()).hexdigest()
    rng = random.Random(digest)
    sentences = rng.sample(CORPUS[topic_of(prompt)], k=len(CORPUS[topic_of(prompt)]))  # a shuffled copy
    words: list[str] = []
    picked: list[str] = []
    while len(words) < wanted_words(prompt):  # cycle through the shuffled sentences: no early repeats
        sentence = sentences[len(picked) % len(sentences)]
        picked.append(sentence)
        words += sentence.split()
    separator = "\n" if "haiku" in prompt.lower() else " "
    return separator.join(picked)
