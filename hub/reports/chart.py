"""A bar chart as server-rendered SVG: no script, readable on a phone (it scales to its box),
printing cleanly (no colours needed to read it), and accessible: a title and a description
(`role="img"`, `aria-labelledby`), each bar with its own title; the same figures are in the
table beneath it."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT, PAD, AXIS = 640, 220, 4, 18


def bars(title: str, description: str, points: list[tuple[str, int, str]], *,
         ident: str) -> str:
    """`points`: (label under the bar, value, the value as the reader writes it). Negative
    values (a day of more returns than sales) go below the zero line."""
    top = max([0, *(v for _, v, _ in points)])
    bottom = min([0, *(v for _, v, _ in points)])
    span = (top - bottom) or 1
    plot = HEIGHT - AXIS - 2 * PAD
    zero = PAD + plot * top / span
    step = (WIDTH - 2 * PAD) / max(1, len(points))
    width = max(1.0, step * 0.8)
    every = max(1, len(points) // 12)  # at most a dozen labels under the bars
    parts = [f'<svg class="chart" id="{escape(ident)}" viewBox="0 0 {WIDTH} {HEIGHT}"'
             f' role="img" aria-labelledby="{escape(ident)}-t {escape(ident)}-d"'
             ' preserveAspectRatio="none">',
             f'<title id="{escape(ident)}-t">{escape(title)}</title>',
             f'<desc id="{escape(ident)}-d">{escape(description)}</desc>',
             f'<line x1="0" x2="{WIDTH}" y1="{zero:.1f}" y2="{zero:.1f}" class="axis"/>']
    for i, (label, value, shown) in enumerate(points):
        h = plot * abs(value) / span
        y = zero - h if value >= 0 else zero
        x = PAD + i * step + (step - width) / 2
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}"'
                     f' class="{"chart-bar" if value >= 0 else "chart-bar neg"}"><title>{escape(label)}:'
                     f' {escape(shown)}</title></rect>')
        if i % every == 0:
            parts.append(f'<text x="{x + width / 2:.1f}" y="{HEIGHT - 4}"'
                         f' text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
