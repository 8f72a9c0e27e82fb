"""Charts drawn on the server as inline SVG: no script, no charting library, nothing fetched.

Every function returns SVG markup (escaped with :mod:`markupsafe`) with a ``<title>`` and a
``<desc>`` for screen readers; the pages show the same figures in a table beside each chart.
Values are exact (``Fraction``); only pixel positions are rounded, to whole pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from markupsafe import Markup, escape

WIDTH = 760
HEIGHT = 300
LEFT = 70
RIGHT = 20
TOP = 20
BOTTOM = 40

#: Colours with at least 4.5:1 contrast on white (WCAG AA), told apart by pattern as well.
FIRST_TRANSFERRED = "#1f5fa8"
USED = "#a3460e"
CA = "#1b6e3a"
BALANCE = "#6a3d9a"
AVERAGE = "#555555"


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its value, a label for screen readers and the link behind it."""

    value: Fraction
    label: str
    href: str | None


@dataclass(frozen=True, slots=True)
class BarGroup:
    """The bars of one year (or other category), drawn side by side."""

    category: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True, slots=True)
class Line:
    """A series drawn as a line over the categories; ``None`` leaves a gap."""

    name: str
    colour: str
    points: tuple[Fraction | None, ...]
    dashed: bool = False
    #: Per point, whether its marker is hollow (e.g. an indicative CA) rather than filled.
    hollow: tuple[bool, ...] = ()


def _scale(values: Sequence[Fraction]) -> tuple[Fraction, Fraction]:
    low = min([Fraction(0), *values])
    high = max([Fraction(0), *values])
    if low == high:
        high = low + 1
    return low, high


def _y(value: Fraction, low: Fraction, high: Fraction) -> int:
    plot = HEIGHT - TOP - BOTTOM
    return TOP + round((high - value) * plot / (high - low))


def _number(value: Fraction) -> str:
    return str(round(value)) if value.denominator != 1 else str(value.numerator)


def _axis(low: Fraction, high: Fraction) -> list[str]:
    parts: list[str] = []
    for tick in (low, (low + high) / 2, high, Fraction(0)):
        y = _y(tick, low, high)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" class="grid'
            f'{" zero" if tick == 0 else ""}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{escape(_number(tick))}</text>'
        )
    return parts


def bars_and_lines(
    title: str,
    description: str,
    groups: Sequence[BarGroup],
    lines: Sequence[Line],
    colours: Sequence[str],
) -> Markup:
    """Grouped bars per category (``colours[i]`` for the i-th bar of each group), each bar a
    link when it has one, with lines over the same categories."""
    values = [bar.value for group in groups for bar in group.bars]
    values += [p for line in lines for p in line.points if p is not None]
    low, high = _scale(values)
    slot = Fraction(WIDTH - LEFT - RIGHT, max(len(groups), 1))
    per_group = max([1, *(len(g.bars) for g in groups)])
    bar_width = max(2, round(slot * 3 / 4 / per_group))
    zero = _y(Fraction(0), low, high)
    parts = [
        # A group, not an image: its bars are links (an image may not hold controls).
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="group" '
        f'aria-labelledby="chart-title" aria-describedby="chart-desc" class="chart">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(description)}</desc>',
        *_axis(low, high),
    ]
    for index, group in enumerate(groups):
        centre = LEFT + slot * index + slot / 2
        start = round(centre - Fraction(bar_width * len(group.bars), 2))
        for position, bar in enumerate(group.bars):
            top = _y(max(bar.value, Fraction(0)), low, high)
            bottom = _y(min(bar.value, Fraction(0)), low, high)
            x = start + position * bar_width
            rect = (
                f'<rect x="{x}" y="{top}" width="{bar_width - 1}" '
                f'height="{max(bottom - top, 1)}" fill="{colours[position % len(colours)]}">'
                f"<title>{escape(bar.label)}</title></rect>"
            )
            if bar.href is None:
                parts.append(rect)
            else:
                parts.append(
                    f'<a href="{escape(bar.href)}" aria-label="{escape(bar.label)}" '
                    f'class="bar">{rect}</a>'
                )
        parts.append(
            f'<text x="{round(centre)}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
            f"{escape(group.category)}</text>"
        )
    for line in lines:
        parts += _line(line, low, high, slot)
    parts.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{zero}" class="axis"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _line(line: Line, low: Fraction, high: Fraction, slot: Fraction) -> list[str]:
    parts: list[str] = []
    segment: list[str] = []
    dash = ' stroke-dasharray="6 4"' if line.dashed else ""

    def flush() -> None:
        if len(segment) > 1:
            parts.append(
                f'<polyline points="{" ".join(segment)}" fill="none" stroke="{line.colour}" '
                f'stroke-width="2"{dash}/>'
            )
        segment.clear()

    for index, value in enumerate(line.points):
        if value is None:
            flush()
            continue
        x = round(LEFT + slot * index + slot / 2)
        y = _y(value, low, high)
        segment.append(f"{x},{y}")
        hollow = index < len(line.hollow) and line.hollow[index]
        fill = "#ffffff" if hollow else line.colour
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="4" fill="{fill}" stroke="{line.colour}" '
            f'stroke-width="2"><title>{escape(line.name)}: {escape(_number(value))}'
            f"</title></circle>"
        )
    flush()
    return parts


def series(title: str, description: str, points: Sequence[tuple[str, int]]) -> Markup:
    """A single line of whole numbers over labelled points (e.g. tree size over time)."""
    values = [Fraction(v) for _, v in points]
    low, high = _scale(values)
    slot = Fraction(WIDTH - LEFT - RIGHT, max(len(points), 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="series-title series-desc" class="chart">',
        f'<title id="series-title">{escape(title)}</title>',
        f'<desc id="series-desc">{escape(description)}</desc>',
        *_axis(low, high),
    ]
    parts += _line(Line(title, CA, tuple(values)), low, high, slot)
    step = max(1, len(points) // 6)
    for index, (label, _) in enumerate(points):
        if index % step == 0 or index == len(points) - 1:
            x = round(LEFT + slot * index + slot / 2)
            parts.append(
                f'<text x="{x}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True, slots=True)
class Node:
    """A box of a lineage graph."""

    key: int
    parent: int | None
    label: str
    href: str
    current: bool


def lineage(title: str, nodes: Sequence[Node], selected: int) -> Markup:
    """A tree of boxes (parents above children), each box a link; ``selected`` is outlined."""
    children: dict[int | None, list[Node]] = {}
    keys = {node.key for node in nodes}
    for node in nodes:
        parent = node.parent if node.parent in keys else None
        children.setdefault(parent, []).append(node)
    column: dict[int, int] = {}
    depth: dict[int, int] = {}
    next_column = 0

    def place(node: Node, level: int) -> None:
        nonlocal next_column
        depth[node.key] = level
        kids = children.get(node.key, [])
        for kid in kids:
            place(kid, level + 1)
        if kids:
            column[node.key] = (column[kids[0].key] + column[kids[-1].key]) // 2
        else:
            column[node.key] = next_column * 2
            next_column += 1

    for root in children.get(None, []):
        place(root, 0)
    box_w, box_h, gap_x, gap_y = 190, 44, 20, 40
    width = max(next_column, 1) * (box_w + gap_x) + gap_x
    height = (max(depth.values(), default=0) + 1) * (box_h + gap_y) + gap_y

    def x_of(key: int) -> int:
        return gap_x + column[key] * (box_w + gap_x) // 2

    def y_of(key: int) -> int:
        return gap_y + depth[key] * (box_h + gap_y)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="group" '
        f'aria-labelledby="lineage-title" class="lineage" width="{width}">',
        f'<title id="lineage-title">{escape(title)}</title>',
    ]
    for node in nodes:
        if node.key in depth and node.parent in depth:
            parent = node.parent
            parts.append(
                f'<line x1="{x_of(parent) + box_w // 2}" y1="{y_of(parent) + box_h}" '
                f'x2="{x_of(node.key) + box_w // 2}" y2="{y_of(node.key)}" class="edge"/>'
            )
    for node in nodes:
        if node.key not in depth:
            continue
        outline = " selected" if node.key == selected else ""
        state = "" if node.current else " superseded"
        parts.append(
            f'<a href="{escape(node.href)}" aria-label="{escape(node.label)}">'
            f'<rect x="{x_of(node.key)}" y="{y_of(node.key)}" width="{box_w}" height="{box_h}" '
            f'rx="4" class="node{outline}{state}"/>'
            f'<text x="{x_of(node.key) + 8}" y="{y_of(node.key) + 18}">'
            f"{escape(node.label.split(': ')[0])}</text>"
            f'<text x="{x_of(node.key) + 8}" y="{y_of(node.key) + 36}" class="small">'
            f"{escape(node.label.split(': ', 1)[-1])}</text></a>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def sankey(title: str, totals: Mapping[tuple[str, str], int]) -> Markup:
    """Parties sending (left) and receiving (right), a band per pair as wide as its share."""
    senders = sorted({s for s, _ in totals})
    receivers = sorted({r for _, r in totals})
    total = sum(totals.values()) or 1
    height = max(len(senders), len(receivers), 1) * 70 + 40
    band_room = height - 40

    def slots(names: Sequence[str]) -> dict[str, int]:
        step = band_room // max(len(names), 1)
        return {name: 20 + step * i + step // 2 for i, name in enumerate(names)}

    left, right = slots(senders), slots(receivers)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="sankey-title" class="chart">',
        f'<title id="sankey-title">{escape(title)}</title>',
    ]
    for (sender, receiver), quantity in sorted(totals.items()):
        thickness = max(2, round(Fraction(quantity * (band_room // 2), total)))
        y1, y2 = left[sender], right[receiver]
        parts.append(
            f'<path d="M 160 {y1} C 380 {y1}, 380 {y2}, 600 {y2}" fill="none" '
            f'stroke="{FIRST_TRANSFERRED}" stroke-opacity="0.5" stroke-width="{thickness}">'
            f"<title>{escape(sender)} to {escape(receiver)}: {quantity}</title></path>"
        )
    for name, y in left.items():
        parts.append(f'<text x="150" y="{y + 5}" text-anchor="end">{escape(name)}</text>')
    for name, y in right.items():
        parts.append(f'<text x="610" y="{y + 5}">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
