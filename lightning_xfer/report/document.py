"""A report as a list of blocks, written twice: Markdown beside its PNGs and CSVs, and one HTML file.

The HTML embeds the figures (base64 `<img>`), so it can be mailed or archived alone; the Markdown
links them relatively, so the folder can be committed and read on GitHub. Every table is also
written as CSV, full precision, for whoever wants to recompute.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

DIGITS = 2
"""Decimals shown in the rendered tables (the CSVs keep full precision)."""


@dataclass
class Document:
    """The blocks of a report, in order, and the folder its files go to."""

    out: Path
    title: str
    blocks: list[tuple] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(("heading", level, text))

    def text(self, text: str) -> None:
        self.blocks.append(("text", text))

    def bullets(self, items: list[str]) -> None:
        if items:
            self.blocks.append(("bullets", list(items)))

    def table(self, frame: pd.DataFrame, name: str, caption: str = "", show: bool = True) -> None:
        """Write `<name>.csv`; show the table in the report too unless `show` is False (large tables)."""
        self.out.mkdir(parents=True, exist_ok=True)
        frame.to_csv(self.out / f"{name}.csv", index=False)
        self.blocks.append(("table", frame if show else None, f"{name}.csv", caption))

    def figure(self, figure: Figure, name: str, caption: str) -> None:
        """Save `figure` as `<name>.png` (150 dpi, Agg)."""
        self.out.mkdir(parents=True, exist_ok=True)
        figure.savefig(self.out / f"{name}.png", dpi=150)
        self.blocks.append(("figure", f"{name}.png", caption))

    def write(self) -> tuple[Path, Path]:
        """Write `report.md` and `report.html` into `out`, after removing the figures and tables an
        earlier report left there that this one does not write (a stale PNG would look current)."""
        self.out.mkdir(parents=True, exist_ok=True)
        markdown, page = self.out / "report.md", self.out / "report.html"
        if markdown.exists():
            current = {b[1] for b in self.blocks if b[0] == "figure"} | {b[2] for b in self.blocks if b[0] == "table"}
            for stale in [*self.out.glob("*.png"), *self.out.glob("*.csv")]:
                if stale.name not in current:
                    stale.unlink()
        markdown.write_text(self.markdown(), encoding="utf-8")
        page.write_text(self.html(), encoding="utf-8")
        return markdown, page

    def markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                lines += ["#" * block[1] + " " + block[2], ""]
            elif kind == "text":
                lines += [block[1], ""]
            elif kind == "bullets":
                lines += [f"- {item}" for item in block[1]] + [""]
            elif kind == "table":
                _, frame, csv, caption = block
                lines += ([caption, ""] if caption else []) + (
                    [_markdown_table(frame), ""] if frame is not None else []
                )
                lines += [f"(table: [{csv}]({csv}))", ""]
            elif kind == "figure":
                lines += [f"![{block[2]}]({block[1]})", "", f"*{block[2]}*", ""]
        return "\n".join(lines)

    def html(self) -> str:
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                body.append(f"<h{block[1]}>{html.escape(block[2])}</h{block[1]}>")
            elif kind == "text":
                body.append(f"<p>{_inline(block[1])}</p>")
            elif kind == "bullets":
                body.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block[1]) + "</ul>")
            elif kind == "table":
                _, frame, csv, caption = block
                body.append(f"<p>{_inline(caption)}</p>" if caption else "")
                if frame is not None:
                    body.append(frame.to_html(index=False, float_format=lambda v: f"{v:.{DIGITS}f}", na_rep="–"))
                body.append(f"<p class='csv'>table: <a href='{csv}'>{csv}</a></p>")
            elif kind == "figure":
                data = base64.b64encode((self.out / block[1]).read_bytes()).decode("ascii")
                body.append(f"<figure><img alt='{html.escape(block[2])}' src='data:image/png;base64,{data}'>"
                            f"<figcaption>{html.escape(block[2])}</figcaption></figure>")  # fmt: skip
        style = ("body{font-family:sans-serif;max-width:70em;margin:auto;line-height:1.4}"
                 "table{border-collapse:collapse;font-size:small}td,th{border:1px solid #bbb;padding:2px 6px}"
                 "img{max-width:100%}figcaption{font-style:italic}")  # fmt: skip
        return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
                f"<style>{style}</style></head><body>{''.join(body)}</body></html>")  # fmt: skip


def _inline(text: str) -> str:
    """Escape, then turn `**bold**`, `*italic*` and `` `code` `` into HTML (the only markup the report writes)."""
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped)
    escaped = re.sub(r"\*(.+?)\*", r"<i>\1</i>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def _cell(value) -> str:
    if isinstance(value, float):
        return "–" if pd.isna(value) else f"{value:.{DIGITS}f}"
    return str(value).replace("|", "\\|")


def _markdown_table(frame: pd.DataFrame) -> str:
    header = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in frame.columns]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(rows)
