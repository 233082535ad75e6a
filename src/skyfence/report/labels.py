"""Map labels placed once the map is laid out, so that none covers another.

Labels are collected while a map is drawn and placed at the end, most important first (an encounter's
aircraft before a town, a town before an airfield): each goes to the first spot beside its point (right
above, right below, left above, left below; its own preferred spot first) where it overlaps no label placed
before and stays inside the map, or is left out. Busy maps lose their least important labels instead of
printing them over each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SPOTS = ((3.0, 2.0, "left", "bottom"), (3.0, -2.0, "left", "top"), (-3.0, 2.0, "right", "bottom"),
         (-3.0, -2.0, "right", "top"))  # offsets in points, and the alignment that puts the text beside the point


@dataclass
class Labels:
    """The labels of one map."""

    _items: list = field(default_factory=list)
    placed: int = 0
    left_out: int = 0

    def add(self, x: float, y: float, text: str, rank: int, first: int = 0, **style) -> None:
        """A label for the point (x, y) in data coordinates; lower ``rank`` is placed first; ``first``: the
        index in ``SPOTS`` tried first; ``style``: matplotlib text properties."""
        self._items.append((rank, len(self._items), float(x), float(y), str(text), first, style))

    def draw(self, ax) -> None:
        """Lay the figure out, then place every label (call once, when everything else is drawn)."""
        fig = ax.figure
        if not hasattr(fig.canvas, "get_renderer"):  # a Figure made without pyplot: measure text as Agg does
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            FigureCanvasAgg(fig)
        fig.canvas.draw()  # the constrained layout fixes the map's size and place; labels stay out of it
        renderer = fig.canvas.get_renderer()
        frame = ax.get_window_extent(renderer)
        boxes = []
        for _rank, _n, x, y, text, first, style in sorted(self._items, key=lambda i: i[:2]):
            for k in range(len(SPOTS)):
                dx, dy, ha, va = SPOTS[(first + k) % len(SPOTS)]
                ann = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va, **style)
                ann.set_in_layout(False)
                box = ann.get_window_extent(renderer)
                inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
                if inside and not any(box.overlaps(b) for b in boxes):
                    boxes.append(box)
                    self.placed += 1
                    break
                ann.remove()
            else:
                self.left_out += 1
