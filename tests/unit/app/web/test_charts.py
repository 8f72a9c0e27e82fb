"""The server-drawn SVG charts: scaled bars with links, lines with gaps and hollow markers,
escaped text, the lineage tree and the Sankey bands."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from app.web import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def test_bars_link_to_their_entries_and_scale_around_zero() -> None:
    groups = [
        charts.BarGroup("2021", (charts.Bar(Fraction(100), "2021 up", "/entries?seqs=1,2"),)),
        charts.BarGroup("2022", (charts.Bar(Fraction(-50), "2022 <down>", None),)),
    ]
    svg = parse(charts.bars_and_lines("T & t", "desc", groups, [], ("#000000",)))
    assert svg.get("role") == "group"
    assert svg.find(f"{SVG}title").text == "T & t"  # type: ignore[union-attr]
    links = svg.findall(f"{SVG}a")
    assert [a.get("href") for a in links] == ["/entries?seqs=1,2"]
    up = links[0].find(f"{SVG}rect")
    down = next(r for r in svg.findall(f"{SVG}rect"))
    assert up is not None
    assert down is not None
    zero = charts.TOP + round(Fraction(100) * (charts.HEIGHT - charts.TOP - charts.BOTTOM) / 150)
    assert int(up.get("y", "")) + int(up.get("height", "")) == zero
    assert int(down.get("y", "")) == zero
    assert "2022 <down>" in ET.tostring(down, encoding="unicode").replace("&lt;", "<").replace(
        "&gt;", ">"
    )


def test_lines_leave_gaps_and_mark_indicative_points_hollow() -> None:
    groups = [charts.BarGroup(str(y), ()) for y in range(4)]
    line = charts.Line(
        "CA",
        charts.CA,
        (Fraction(1), Fraction(2), None, Fraction(3, 2)),
        hollow=(True, False, False, False),
    )
    svg = parse(charts.bars_and_lines("t", "d", groups, [line], (charts.CA,)))
    assert len(svg.findall(f"{SVG}polyline")) == 1  # the lone last point draws no segment
    circles = svg.findall(f"{SVG}circle")
    assert [c.get("fill") for c in circles] == ["#ffffff", charts.CA, charts.CA]
    assert circles[2].find(f"{SVG}title").text == "CA: 2"  # type: ignore[union-attr]


def test_an_empty_chart_still_draws_its_axis() -> None:
    svg = parse(charts.bars_and_lines("t", "d", [], [], ("#000000",)))
    assert svg.findall(f"{SVG}line")


def test_series_labels_a_few_points() -> None:
    points = [(f"day {i}", i * 10) for i in range(20)]
    svg = parse(charts.series("Tree size", "d", points))
    labels = [t.text for t in svg.findall(f"{SVG}text")]
    assert {"day 0", "day 19"} <= set(labels)
    assert "day 1" not in labels


def test_lineage_places_children_under_their_parent() -> None:
    nodes = [
        charts.Node(1, None, "Block 1: 1-10 in A", "/b/1", False),
        charts.Node(2, 1, "Block 2: 1-4 in A", "/b/2", True),
        charts.Node(3, 1, "Block 3: 5-10 in B", "/b/3", True),
        charts.Node(4, 99, "Block 4: 11-12 in B", "/b/4", True),  # its parent is not shown
    ]
    svg = parse(charts.lineage("Lineage", nodes, 3))
    rects = {a.get("href"): a.find(f"{SVG}rect") for a in svg.findall(f"{SVG}a")}
    assert len(svg.findall(f"{SVG}line")) == 2
    parent, left, right = rects["/b/1"], rects["/b/2"], rects["/b/3"]
    assert parent is not None
    assert left is not None
    assert right is not None
    assert int(left.get("y", "")) > int(parent.get("y", ""))
    assert int(left.get("x", "")) < int(parent.get("x", "")) < int(right.get("x", ""))
    assert "selected" in right.get("class", "")
    assert "superseded" in parent.get("class", "")
    orphan = rects["/b/4"]
    assert orphan is not None
    assert orphan.get("y") == parent.get("y")  # drawn as a root of its own


def test_sankey_bands_are_as_wide_as_their_share() -> None:
    svg = parse(charts.sankey("Flows", {("THA", "JPN"): 300, ("MNG", "JPN"): 100}))
    widths = {
        p.find(f"{SVG}title").text: int(p.get("stroke-width", ""))  # type: ignore[union-attr]
        for p in svg.findall(f"{SVG}path")
    }
    # Whole pixels: three times as wide, give or take the rounding of each band.
    assert abs(widths["THA to JPN: 300"] - 3 * widths["MNG to JPN: 100"]) <= 2
