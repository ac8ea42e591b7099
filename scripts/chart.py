#!/usr/bin/env python3
"""Draws the comparison chart (SVG) from the compare bench's CSV, standard library only.

    python3 scripts/chart.py [target/compare/summary.csv] [docs/compare.svg]

Two panels, one row per operation and one bar per size, on log scales:
  left:  sqlite_over_relata   (SQLite time / relata time; > 1 means relata is faster,
         target >= 10 on point and traversal operations at 100k; for memory_per_user,
         SQLite bytes / relata bytes, target >= 1)
  right: relata_over_baseline (relata time / hand-written baseline time; target <= 1.5)
Operations a system lacks are marked n/a.
"""

import csv
import math
import sys
from xml.sax.saxutils import escape

COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1"]
ROW_H, BAR_H, LEFT, PANEL_W, GAP, TOP = 34, 8, 130, 380, 60, 70
LOG_MIN, LOG_MAX = -1.0, 3.0  # 0.1x .. 1000x


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    ops, sizes = [], []
    for r in rows:
        if r["op"] not in ops:
            ops.append(r["op"])
        size = int(r["size"])
        if size not in sizes:
            sizes.append(size)
    table = {(r["op"], int(r["size"])): r for r in rows}
    return ops, sorted(sizes), table


def ratio(cell):
    try:
        v = float(cell)
    except (TypeError, ValueError):
        return None
    return v if v > 0 and math.isfinite(v) else None


def x_of(value, x0):
    v = min(max(math.log10(value), LOG_MIN), LOG_MAX)
    return x0 + (v - LOG_MIN) / (LOG_MAX - LOG_MIN) * PANEL_W


def size_label(n):
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def axis(out, x0, height, title, marks):
    out.append(f'<text x="{x0}" y="{TOP - 40}" class="title">{escape(title)}</text>')
    for e in range(int(LOG_MIN), int(LOG_MAX) + 1):
        x = x_of(10.0**e, x0)
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{TOP + height}" class="grid"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP - 12}" class="tick">{10.0**e:g}x</text>')
    for value, label in marks:
        x = x_of(value, x0)
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{TOP + height}" class="target"/>')
        out.append(f'<text x="{x + 3:.1f}" y="{TOP + height + 14}" class="mark">{escape(label)}</text>')


def bars(out, ops, sizes, table, column, x0):
    for i, op in enumerate(ops):
        y = TOP + i * ROW_H + 4
        for j, size in enumerate(sizes):
            row = table.get((op, size))
            value = ratio(row[column]) if row else None
            yb = y + j * (BAR_H + 1)
            if value is None:
                if row:
                    out.append(f'<text x="{x0 + 4}" y="{yb + BAR_H - 1}" class="na">n/a</text>')
                continue
            xa, xb = x_of(1.0, x0), x_of(value, x0)
            left, width = min(xa, xb), max(abs(xb - xa), 1.0)
            out.append(
                f'<rect x="{left:.1f}" y="{yb}" width="{width:.1f}" height="{BAR_H}" '
                f'fill="{COLORS[j % len(COLORS)]}"><title>{escape(op)} {size_label(size)}: '
                f"{value:g}</title></rect>"
            )


def render(ops, sizes, table):
    height = len(ops) * ROW_H
    width = LEFT + 2 * PANEL_W + GAP + 40
    total_h = TOP + height + 70
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_h}" '
        f'viewBox="0 0 {width} {total_h}" font-family="sans-serif">',
        "<style>.title{font-size:13px;font-weight:bold}.tick,.mark,.na{font-size:10px}"
        ".op{font-size:12px}.grid{stroke:#ddd}.target{stroke:#c00;stroke-dasharray:4 3}"
        ".na{fill:#888}</style>",
        f'<rect width="{width}" height="{total_h}" fill="white"/>',
    ]
    for i, op in enumerate(ops):
        y = TOP + i * ROW_H + ROW_H / 2
        out.append(f'<text x="{LEFT - 8}" y="{y:.0f}" text-anchor="end" class="op">{escape(op)}</text>')
    x_left, x_right = LEFT, LEFT + PANEL_W + GAP
    axis(out, x_left, height, "SQLite / relata (higher: relata faster)", [(10, "10x target")])
    axis(out, x_right, height, "relata / baseline (lower: closer to the limit)", [(1.5, "1.5x target")])
    bars(out, ops, sizes, table, "sqlite_over_relata", x_left)
    bars(out, ops, sizes, table, "relata_over_baseline", x_right)
    for j, size in enumerate(sizes):
        x = LEFT + j * 90
        out.append(f'<rect x="{x}" y="{TOP + height + 30}" width="12" height="10" fill="{COLORS[j % len(COLORS)]}"/>')
        out.append(f'<text x="{x + 16}" y="{TOP + height + 39}" class="tick">{size_label(size)} users</text>')
    note = ("Medians; log scales. Left target: 10x on point and traversal operations at 100k; "
            "memory_per_user compares bytes per user (target: at least 1x).")
    out.append(f'<text x="{LEFT}" y="{TOP + height + 56}" class="tick">{escape(note)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    src = argv[1] if len(argv) > 1 else "target/compare/summary.csv"
    dst = argv[2] if len(argv) > 2 else "docs/compare.svg"
    ops, sizes, table = read(src)
    with open(dst, "w") as f:
        f.write(render(ops, sizes, table))
    print(f"wrote {dst} ({len(ops)} operations, sizes {', '.join(map(size_label, sizes))})")


if __name__ == "__main__":
    main(sys.argv)
