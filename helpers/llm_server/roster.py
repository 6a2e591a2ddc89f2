"""A workshop room's roster: which API keys the room server accepts, and the learner each belongs to.

One learner a line, `key` or `key,name`; blank lines and `#` comments are skipped. The names are
for the instructor's dashboard only (room_view.py): the server never shows them to a learner.
`llm-sim-server roster 60 > roster.csv` writes a roster of fresh keys, drawn with `secrets` so
nobody can guess a neighbour's key from their own.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import NamedTuple

KEY_PREFIX = "sk-room-"


class RosterError(ValueError):
    """A roster file that cannot be read as one: the message names the file and the line."""


class Roster(NamedTuple):
    keys: list[str]  # in the file's order
    names: dict[str, str]  # key -> the learner's name, for the keys given one


def read_roster(path: Path) -> Roster:
    lines_of: dict[str, int] = {}  # key -> its line, in the file's order
    names: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key, comma, name = (part.strip() for part in text.partition(","))
        if not key or " " in key or "," in name or (comma and not name):
            raise RosterError(f"{path}, line {number}: expected `key` or `key,name`, got {text!r}")
        if key in lines_of:
            raise RosterError(f"{path}, line {number}: this key is already on line {lines_of[key]}; "
                              "every learner needs a key of their own")
        lines_of[key] = number
        if name:
            names[key] = name
    return Roster(list(lines_of), names)


def new_roster(learners: int) -> str:
    """A roster's text: `learner-01` ... with a fresh random key each, and a header saying how to use it."""
    width = max(2, len(str(learners)))
    lines = ["# key,name: give each learner their key; start the room with --keys on this file"]
    lines += [f"{KEY_PREFIX}{secrets.token_hex(12)},learner-{number:0{width}d}" for number in range(1, learners + 1)]
    return "\n".join(lines) + "\n"
