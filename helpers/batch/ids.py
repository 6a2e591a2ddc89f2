"""A set of custom_ids that costs 8 bytes an id, so remembering them does not grow memory much.

The runner must remember two things that grow with the file: the ids already in the results
(to skip them on resume) and the ids seen in the input (to refuse a duplicate, which would
make "every request exactly once" meaningless). A Python set of 100,000 id strings takes about
9 MB; a sorted NumPy array of their 64-bit digests takes 0.8 MB, and `in` is a binary search.

The price is a tiny chance that two different ids share a digest: about n² / 2⁶⁵, one in three
billion for 100,000 ids. Then one request would be wrongly called a duplicate (an error you see),
or skipped on resume.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from hashlib import blake2b

import numpy as np


def digest(custom_id: str) -> int:
    """64 bits of the id's BLAKE2 hash: the same in every process (unlike Python's own `hash`)."""
    return int.from_bytes(blake2b(custom_id.encode(), digest_size=8).digest(), "little")


class IdSet:
    """The custom_ids given, frozen: `custom_id in ids`, `len(ids)`, and which digests came twice."""

    def __init__(self, custom_ids: Iterable[str]) -> None:
        collected = array("Q", (digest(custom_id) for custom_id in custom_ids))  # 8 bytes each, as they stream in
        self.digests = np.sort(np.frombuffer(collected, dtype=np.uint64))

    def __contains__(self, custom_id: str) -> bool:
        wanted = np.uint64(digest(custom_id))
        position = int(np.searchsorted(self.digests, wanted))
        return position < len(self.digests) and self.digests[position] == wanted

    def __len__(self) -> int:
        return len(self.digests)

    def count_in(self, other: IdSet) -> int:
        """How many of these ids are also in `other`."""
        return int(np.isin(self.digests, other.digests).sum())

    def repeated(self) -> set[int]:
        """Digests that occur more than once: neighbours in the sorted array that are equal."""
        same = self.digests[1:] == self.digests[:-1]
        return {int(value) for value in self.digests[1:][same]}
