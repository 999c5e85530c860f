"""The shell commands of a Markdown tutorial, as a reader would copy them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SKIP_MARK = "<!-- tutorial-test: skip -->"
SHELL_LANGUAGES = ("bash", "console")


@dataclass(frozen=True)
class Block:
    line: int
    """1-based line of the opening fence."""
    language: str
    text: str
    skipped: bool

    @property
    def script(self) -> str:
        """The commands: the text of a bash block, the ``$ `` lines of a console block."""
        if self.language != "console":
            return self.text
        return "\n".join(line[2:] for line in self.text.splitlines() if line.startswith("$ "))


def fenced_blocks(path: Path) -> list[Block]:
    """Every fenced code block, with whether the line before it is the skip mark."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    previous = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("```"):
            start, language = index, line[3:].strip()
            index += 1
            body: list[str] = []
            while not lines[index].startswith("```"):
                body.append(lines[index])
                index += 1
            blocks.append(
                Block(start + 1, language, "\n".join(body) + "\n", previous.strip() == SKIP_MARK)
            )
            previous = ""
        elif line.strip():
            previous = line
        index += 1
    return blocks


def shell_blocks(path: Path) -> list[Block]:
    return [b for b in fenced_blocks(path) if b.language in SHELL_LANGUAGES]
