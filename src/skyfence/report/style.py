"""How report figures look: colours for intent, parties and levels; figures turned into inline SVG.

Figures are made with matplotlib's object API (no pyplot, no global figure state) and written as
SVG with text kept as text, each with its own id salt so that several can share one HTML page.
"""

from __future__ import annotations

import io
import re

INTENT_COLOURS = {"likely deliberate": "#c0392b", "unclear": "#e67e22", "likely inadvertent": "#2e86c1",
                  "not assessed": "#7f8c8d"}
LEVEL_COLOURS = {"caution": "#f4d03f", "warning": "#f39c12", "loss": "#e74c3c", "nmac": "#78281f"}
PARTY_PALETTE = ("#1f4e79", "#a93226", "#1e8449", "#7d3c98", "#b9770e", "#117a65", "#5d6d7e")
UNKNOWN_COLOUR = "#95a5a6"
WIDTH_IN = 6.7  # fits an A4 page with 2 cm margins

RC = {"font.size": 7.5, "axes.titlesize": 8.5, "axes.labelsize": 7.5, "xtick.labelsize": 7, "ytick.labelsize": 7,
      "legend.fontsize": 7, "font.family": "DejaVu Sans", "svg.fonttype": "none", "axes.spines.top": False,
      "axes.spines.right": False, "path.simplify": True, "path.simplify_threshold": 0.2}


def party_colours(parties: list[str]) -> dict[str, str]:
    """A stable colour per party (in the given order); ``unknown`` is grey."""
    colours = {p: PARTY_PALETTE[i % len(PARTY_PALETTE)] for i, p in enumerate(x for x in parties if x != "unknown")}
    colours["unknown"] = UNKNOWN_COLOUR
    return colours


def new_figure(height_in: float, width_in: float = WIDTH_IN):
    """A matplotlib Figure of the report's width, not registered with pyplot."""
    import matplotlib

    matplotlib.rcParams.update(RC)
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), layout="constrained")


_HEADER = re.compile(r"^.*?(?=<svg)", re.S)
_SIZE = re.compile(r'<svg([^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"')


def to_svg(fig, name: str) -> str:
    """The figure as an ``<svg>`` element for inline use: no XML prolog, ids unique to ``name``,
    scaled to the width of the page."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": name, **RC}):
        fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.03,
                    metadata={"Date": None, "Creator": "skyfence"})
    svg = _HEADER.sub("", buf.getvalue(), count=1)
    svg = _SIZE.sub(lambda m: f'<svg{m.group(1)} width="{m.group(2)}pt" height="{m.group(3)}pt" '
                              f'class="figure" role="img" aria-label="{name}"', svg, count=1)
    return _unique_ids(svg, name)


_REF = re.compile(r'(\bid="|href="#|url\(#)([^"\)]+)')


def _unique_ids(svg: str, name: str) -> str:
    """Prefix every id and every reference to one with ``name``: matplotlib numbers its groups
    (``patch_1``, ``axes_1``) the same way in every figure."""
    prefix = re.sub(r"[^A-Za-z0-9_-]", "_", name) + "-"
    return _REF.sub(lambda m: m.group(1) + prefix + m.group(2), svg)
