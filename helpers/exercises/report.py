"""A check's verdict, line by line, shown the same way in every exercise."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CheckReport:
    """The outcome of one exercise check: a list of (passed, explanation) lines."""

    title: str
    lines: list[tuple[bool, str]] = field(default_factory=list)

    def expect(self, passed: bool, explanation: str) -> bool:
        self.lines.append((passed, explanation))
        return passed

    def expect_one_per_prompt(self, results: object, prompts: int) -> bool:
        """The first thing every gather exercise checks: a list with one entry per prompt."""
        if isinstance(results, list) and len(results) == prompts:
            return True
        got = len(results) if isinstance(results, list) else type(results).__name__
        return self.expect(False, f"return a list with one answer per prompt, {prompts} in all; got {got}")

    @property
    def passed(self) -> bool:
        return bool(self.lines) and all(ok for ok, _ in self.lines)

    @property
    def problems(self) -> list[str]:
        return [text for ok, text in self.lines if not ok]

    def __str__(self) -> str:
        right = sum(ok for ok, _ in self.lines)
        verdict = "all correct" if self.passed else f"{right} of {len(self.lines)} correct"
        body = "\n".join(f"  {'✓' if ok else '✗'} {text}" for ok, text in self.lines)
        return f"{self.title}: {verdict}\n{body}"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """Jupyter shows the report as text when it is a cell's last expression."""
        printer.text(str(self))
