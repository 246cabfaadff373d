"""What the bot sends back, channel-neutral, each with a plain-text fallback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Choice:
    label: str
    value: str


@dataclass(frozen=True)
class Reply:
    """A message; `choices` (closed answers) may come with it."""

    text: str
    choices: tuple[Choice, ...] = ()
    kind: str = "text"

    def plain_text(self) -> str:
        return self.text

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "text": self.plain_text(),
            "choices": [{"label": c.label, "value": c.value} for c in self.choices],
        }


@dataclass(frozen=True)
class AdviceReply(Reply):
    """An advice sheet: `markdown` for channels that format, `text` as plain fallback."""

    sheet_id: str = ""
    title: str = ""
    markdown: str = ""
    kind: str = "advice"

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        data.update(sheet_id=self.sheet_id, title=self.title, markdown=self.markdown)
        return data


@dataclass(frozen=True)
class ShareReply(Reply):
    """Share links (network -> URL) and the text to copy; no personal data in either."""

    links: tuple[tuple[str, str], ...] = ()
    share_text: str = ""
    kind: str = "share"

    def plain_text(self) -> str:
        lines = [self.text, *(f"{name} : {url}" for name, url in self.links), self.share_text]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        data.update(
            links=[{"network": n, "url": u} for n, u in self.links], share_text=self.share_text
        )
        return data


def render_plain(replies: list[Reply] | tuple[Reply, ...]) -> str:
    """Every reply as plain text, choices numbered: the terminal's rendering."""
    blocks = []
    for reply in replies:
        block = reply.plain_text()
        if reply.choices:
            block += "\n" + "\n".join(
                f"  [{i}] {c.label}" for i, c in enumerate(reply.choices, start=1)
            )
        blocks.append(block)
    return "\n\n".join(blocks)
