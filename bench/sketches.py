"""Programmatic sketches, as a student draws them on the 280x280 canvas: dark strokes on white, in varied pens,
sizes, positions, proportions and tilts, every stroke a little wobbly. Items Fashion-MNIST lacks (hat, sock,
scarf; glove, tie, belt, mitten for tuning, and slipper, vest, shorts, skirt: tuning items that look like one of
the ten), each in one to four styles, and the ten built-in classes as outlines.

`python -m bench.sketches` writes the sets the teaching benchmark and tests read, under bench/data/teach/:
<item>/teach_NN.png (the examples taught), <item>/heldout_NN.png (drawn separately, other seeds, every style),
builtin/<class>_NN.png (the ten classes), and dev/ (the tuning items and built-in classes from yet other seeds,
in the same layout: the only drawings any setting of the teaching was tuned on).
"""

import argparse
import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIDE = 280
DATA = Path(__file__).resolve().parent / "data" / "teach"
Strokes = list[list[tuple[float, float]]]  # polylines in the unit square, y down


def _arc(cx, cy, rx, ry, start, end, steps=16) -> list[tuple[float, float]]:
    """Points on an ellipse from angle `start` to `end` (degrees, 0 = right, 90 = down)."""
    return [
        (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
        for a in np.linspace(start, end, steps)
    ]


# ---- items the dataset lacks -------------------------------------------------------------------------


def hat(rng, style: int) -> Strokes:
    if style == 0:  # brimmed hat: a wide flat brim and a rounded crown
        brim = _arc(0.5, 0.72, 0.48, 0.09, 0, 360, 28)
        crown = [(0.28, 0.7), (0.3, 0.35), *_arc(0.5, 0.35, 0.2, 0.12, 180, 360, 10), (0.7, 0.35), (0.72, 0.7)]
        band = [(0.29, 0.6), (0.71, 0.6)]
        return [brim, crown, band]
    if style == 1:  # baseball cap: a dome and a visor to one side
        dome = [*_arc(0.45, 0.62, 0.3, 0.36, 180, 360, 20), (0.15, 0.62)]
        visor = [(0.72, 0.6), (0.98, 0.66), (0.9, 0.72), (0.62, 0.66)]
        button = _arc(0.45, 0.26, 0.03, 0.02, 0, 360, 8)
        return [dome, visor, button]
    if style == 2:  # beanie: a dome, a folded band and a pompom
        dome = [(0.2, 0.7), *_arc(0.5, 0.62, 0.3, 0.38, 180, 360, 20), (0.8, 0.7)]
        band = [(0.17, 0.7), (0.83, 0.7), (0.83, 0.88), (0.17, 0.88), (0.17, 0.7)]
        pompom = _arc(0.5, 0.16, 0.09, 0.08, 0, 360, 12)
        return [dome, band, pompom]
    # top hat: a tall straight crown on a narrow brim
    crown = [(0.32, 0.8), (0.34, 0.12), (0.66, 0.12), (0.68, 0.8)]
    brim = _arc(0.5, 0.82, 0.34, 0.06, 0, 360, 24)
    return [crown, brim, [(0.33, 0.66), (0.67, 0.66)]]


def sock(rng, style: int) -> Strokes:
    if style == 0:  # ankle to toe, foot to the right
        body = [(0.3, 0.05), (0.3, 0.62), *_arc(0.42, 0.8, 0.14, 0.16, 180, 90, 6), (0.85, 0.96)]
        body += [*_arc(0.85, 0.84, 0.1, 0.12, 90, -90, 8), (0.55, 0.72), (0.55, 0.05), (0.3, 0.05)]
        cuff = [(0.3, 0.18), (0.55, 0.18)]
        return [body, cuff]
    if style == 1:  # foot to the left, striped
        body = [(0.7, 0.05), (0.7, 0.62), *_arc(0.58, 0.8, 0.14, 0.16, 0, 90, 6), (0.15, 0.96)]
        body += [*_arc(0.15, 0.84, 0.1, 0.12, 90, 270, 8), (0.45, 0.72), (0.45, 0.05), (0.7, 0.05)]
        stripes = [[(0.45, y), (0.7, y)] for y in (0.15, 0.25, 0.35)]
        return [body, *stripes]
    # knee sock: long and narrow
    body = [(0.38, 0.0), (0.38, 0.72), *_arc(0.48, 0.86, 0.1, 0.12, 180, 90, 6), (0.8, 0.98)]
    body += [*_arc(0.8, 0.88, 0.08, 0.1, 90, -90, 8), (0.58, 0.78), (0.58, 0.0), (0.38, 0.0)]
    return [body, [(0.38, 0.1), (0.58, 0.1)], [(0.7, 0.8), (0.7, 0.98)]]


def scarf(rng, style: int) -> Strokes:
    if style == 0:  # a long straight band with fringes at both ends
        band = [(0.35, 0.08), (0.65, 0.08), (0.65, 0.92), (0.35, 0.92), (0.35, 0.08)]
        fringe = [[(x, 0.92), (x, 1.0)] for x in np.linspace(0.38, 0.62, 5)]
        fringe += [[(x, 0.08), (x, 0.0)] for x in np.linspace(0.38, 0.62, 5)]
        return [band, *fringe]
    if style == 1:  # wrapped: a loop at the top and two hanging ends
        loop = _arc(0.5, 0.25, 0.32, 0.18, 0, 360, 24)
        left = [(0.3, 0.35), (0.25, 0.9), (0.42, 0.9), (0.45, 0.4)]
        right = [(0.55, 0.4), (0.62, 0.85), (0.78, 0.82), (0.7, 0.35)]
        fringe = [[(x, 0.9), (x - 0.01, 0.98)] for x in (0.28, 0.34, 0.4)]
        return [loop, left, right, *fringe]
    # diagonal band with stripes
    band = [(0.1, 0.2), (0.25, 0.05), (0.9, 0.8), (0.75, 0.95), (0.1, 0.2)]
    stripes = [[(0.1 + t * 0.65 + 0.15, 0.05 + t * 0.75), (0.1 + t * 0.65, 0.2 + t * 0.75)] for t in (0.3, 0.5, 0.7)]
    return [band, *stripes]


def tie(rng, style: int) -> Strokes:
    knot = [(0.4, 0.0), (0.6, 0.0), (0.56, 0.14), (0.44, 0.14), (0.4, 0.0)]
    blade = [(0.44, 0.14), (0.34, 0.82), (0.5, 1.0), (0.66, 0.82), (0.56, 0.14)]
    return [knot, blade, [(0.4, 0.4), (0.6, 0.5)]] if style else [knot, blade]


def belt(rng, style: int) -> Strokes:
    band = [(0.0, 0.4), (1.0, 0.4), (1.0, 0.6), (0.0, 0.6), (0.0, 0.4)]
    buckle = [(0.15, 0.3), (0.32, 0.3), (0.32, 0.7), (0.15, 0.7), (0.15, 0.3)]
    holes = [_arc(x, 0.5, 0.012, 0.02, 0, 360, 6) for x in (0.6, 0.68, 0.76)]
    return [band, buckle, [(0.2, 0.5), (0.32, 0.5)], *holes]


def mitten(rng, style: int) -> Strokes:
    body = [(0.25, 0.95), (0.2, 0.4), *_arc(0.45, 0.35, 0.25, 0.3, 180, 360, 14), (0.72, 0.7), (0.7, 0.95)]
    thumb = [(0.2, 0.55), (0.05, 0.45), (0.02, 0.35), (0.12, 0.32), (0.22, 0.42)]
    cuff = [(0.22, 0.82), (0.72, 0.82)]
    return [body, thumb, cuff, [(0.25, 0.95), (0.7, 0.95)]]


def glove(rng, style: int) -> Strokes:
    palm = [(0.25, 0.95), (0.25, 0.45)]
    fingers = []
    for i, x in enumerate((0.25, 0.39, 0.53, 0.67)):
        top = 0.08 + 0.06 * abs(i - 1.5)
        fingers += [(x, 0.45), (x, top + 0.05), *_arc(x + 0.07, top + 0.05, 0.07, 0.05, 180, 360, 6)]
    right = [(0.81, 0.45), (0.81, 0.55), (0.95, 0.42), (1.0, 0.48), (0.8, 0.75), (0.78, 0.95), (0.25, 0.95)]
    return [palm + fingers + right, [(0.25, 0.85), (0.78, 0.85)]] if style == 0 else [palm + fingers + right]


# Practice items that look like one of the ten: teaching them shows whether the new row tells an item from a
# drawing of a built-in class it resembles (the practice items above are too unlike the ten to show it).


def slipper(rng, style: int) -> Strokes:
    """Looks like a sandal or a sneaker: a flat sole and a closed toe cap (or a mule's strap)."""
    sole = [(0.0, 0.72), (0.9, 0.7), (1.0, 0.8), (0.95, 0.9), (0.03, 0.9), (0.0, 0.72)]
    if style == 0:  # closed toe cap over the front half
        return [sole, [(0.45, 0.72), *_arc(0.72, 0.72, 0.27, 0.3, 180, 360, 12)]]
    return [sole, [(0.35, 0.71), (0.45, 0.45), (0.7, 0.45), (0.8, 0.7)], [(0.12, 0.72), (0.12, 0.6)]]


def vest(rng, style: int) -> Strokes:
    """Looks like a T-shirt or a dress: a sleeveless top with deep armholes and a V neck."""
    body = [(0.3, 0.0), (0.5, 0.3), (0.7, 0.0), (0.74, 0.0), *_arc(0.9, 0.22, 0.12, 0.2, 180, 90, 6), (0.84, 0.98)]
    body += [(0.16, 0.98), *_arc(0.1, 0.22, 0.12, 0.2, 90, 0, 6), (0.26, 0.0), (0.3, 0.0)]
    return [body, [(0.5, 0.3), (0.5, 0.98)]] if style else [body]


def shorts(rng, style: int) -> Strokes:
    """Looks like trousers, cut short: a waistband and two wide legs."""
    legs = [(0.1, 0.15), (0.9, 0.15), (1.0, 0.85), (0.58, 0.88), (0.5, 0.45), (0.42, 0.88), (0.0, 0.85), (0.1, 0.15)]
    return [legs, [(0.1, 0.27), (0.9, 0.27)]] if style else [legs]


def skirt(rng, style: int) -> Strokes:
    """Looks like a dress without its top: a waistband and a flared skirt."""
    body = [(0.3, 0.1), (0.7, 0.1), (0.95, 0.95), (0.05, 0.95), (0.3, 0.1)]
    pleats = [[(x, 0.2), (x + (x - 0.5) * 0.5, 0.95)] for x in (0.4, 0.5, 0.6)] if style else []
    return [body, [(0.3, 0.2), (0.7, 0.2)], *pleats]


# ---- the ten built-in classes, as outlines ----------------------------------------------------------------


def tshirt(rng, style: int) -> Strokes:
    return [
        [(0.3, 0.05), (0.42, 0.1), (0.58, 0.1), (0.7, 0.05), (0.98, 0.28), (0.86, 0.42), (0.76, 0.34)]
        + [(0.76, 0.97), (0.24, 0.97), (0.24, 0.34), (0.14, 0.42), (0.02, 0.28), (0.3, 0.05)],
        _arc(0.5, 0.1, 0.08, 0.06, 0, 180, 8),
    ]


def trouser(rng, style: int) -> Strokes:
    return [[(0.28, 0.0), (0.72, 0.0), (0.76, 1.0), (0.56, 1.0), (0.5, 0.3), (0.44, 1.0), (0.24, 1.0), (0.28, 0.0)]]


def pullover(rng, style: int) -> Strokes:
    return [
        [(0.3, 0.05), (0.42, 0.1), (0.58, 0.1), (0.7, 0.05), (0.95, 0.3), (1.0, 0.95), (0.86, 0.96), (0.78, 0.42)]
        + [(0.78, 0.95), (0.22, 0.95), (0.22, 0.42), (0.14, 0.96), (0.0, 0.95), (0.05, 0.3), (0.3, 0.05)],
        [(0.22, 0.88), (0.78, 0.88)],
    ]


def dress(rng, style: int) -> Strokes:
    return [
        [(0.36, 0.0), (0.42, 0.08), (0.58, 0.08), (0.64, 0.0), (0.66, 0.3), (0.6, 0.42), (0.9, 1.0)]
        + [(0.1, 1.0), (0.4, 0.42), (0.34, 0.3), (0.36, 0.0)],
        [(0.4, 0.42), (0.6, 0.42)],
    ]


def coat(rng, style: int) -> Strokes:
    return [
        [(0.32, 0.02), (0.5, 0.14), (0.68, 0.02), (0.94, 0.2), (1.0, 0.98), (0.86, 0.98), (0.8, 0.4)]
        + [(0.8, 1.0), (0.2, 1.0), (0.2, 0.4), (0.14, 0.98), (0.0, 0.98), (0.06, 0.2), (0.32, 0.02)],
        [(0.5, 0.14), (0.5, 1.0)],
        *[_arc(0.56, y, 0.015, 0.015, 0, 360, 6) for y in (0.3, 0.5, 0.7)],
    ]


def sandal(rng, style: int) -> Strokes:
    sole = [(0.0, 0.78), (0.95, 0.72), (1.0, 0.85), (0.02, 0.9), (0.0, 0.78)]
    straps = [[(0.1, 0.78), (0.3, 0.45), (0.45, 0.76)], [(0.55, 0.75), (0.7, 0.5), (0.85, 0.73)]]
    return [sole, *straps, [(0.3, 0.45), (0.7, 0.5)]]


def sneaker(rng, style: int) -> Strokes:
    return [
        [(0.02, 0.42), (0.25, 0.38), (0.45, 0.6), (0.9, 0.68), (1.0, 0.82), (0.98, 0.9), (0.02, 0.9), (0.02, 0.42)],
        [(0.02, 0.8), (0.99, 0.8)],
        *[[(0.3 + 0.07 * i, 0.45 + 0.05 * i), (0.36 + 0.07 * i, 0.42 + 0.05 * i)] for i in range(3)],
    ]


def bag(rng, style: int) -> Strokes:
    body = [(0.05, 0.4), (0.95, 0.4), (0.92, 0.98), (0.08, 0.98), (0.05, 0.4)]
    handle = _arc(0.5, 0.4, 0.25, 0.32, 180, 360, 14)
    return [body, handle, [(0.05, 0.55), (0.95, 0.55)]] if style else [body, handle]


def ankle_boot(rng, style: int) -> Strokes:
    return [
        [(0.12, 0.0), (0.5, 0.0), (0.52, 0.5), (0.9, 0.66), (1.0, 0.82), (0.98, 0.96), (0.05, 0.96), (0.08, 0.6)]
        + [(0.12, 0.0)],
        [(0.05, 0.86), (0.99, 0.86)],
    ]


def shirt(rng, style: int) -> Strokes:
    return [
        [(0.3, 0.05), (0.5, 0.14), (0.7, 0.05), (0.95, 0.28), (1.0, 0.9), (0.86, 0.9), (0.78, 0.4), (0.78, 0.97)]
        + [(0.22, 0.97), (0.22, 0.4), (0.14, 0.9), (0.0, 0.9), (0.05, 0.28), (0.3, 0.05)],
        [(0.38, 0.02), (0.5, 0.14), (0.62, 0.02)],
        [(0.5, 0.14), (0.5, 0.97)],
        *[_arc(0.53, y, 0.012, 0.012, 0, 360, 6) for y in (0.3, 0.45, 0.6, 0.75)],
    ]


ITEMS = {"hat": (hat, 4), "sock": (sock, 3), "scarf": (scarf, 3)}
DEV_ITEMS = {"glove": (glove, 2), "tie": (tie, 2), "belt": (belt, 1), "mitten": (mitten, 1)}
LOOKALIKE_ITEMS = {"slipper": (slipper, 2), "vest": (vest, 2), "shorts": (shorts, 2), "skirt": (skirt, 2)}
BUILTIN = {
    "T-shirt/top": (tshirt, 1),
    "Trouser": (trouser, 1),
    "Pullover": (pullover, 1),
    "Dress": (dress, 1),
    "Coat": (coat, 1),
    "Sandal": (sandal, 1),
    "Shirt": (shirt, 1),
    "Sneaker": (sneaker, 1),
    "Bag": (bag, 2),
    "Ankle boot": (ankle_boot, 1),
}


def render(strokes: Strokes, rng: np.random.Generator) -> bytes:
    """The strokes drawn as a student would on the canvas, as PNG bytes: a random pen (6-30 px), size (50-95% of
    the canvas), position, stretch (±15%), tilt (±8°) and hand wobble."""
    size = rng.uniform(0.5, 0.95) * SIDE
    sx, sy = size * rng.uniform(0.85, 1.15), size * rng.uniform(0.85, 1.15)
    sx, sy = min(sx, 0.95 * SIDE), min(sy, 0.95 * SIDE)
    ox, oy = rng.uniform(0, SIDE - sx), rng.uniform(0, SIDE - sy)
    tilt = math.radians(rng.uniform(-8, 8))
    pen = int(rng.integers(6, 31))
    wobble = rng.uniform(0.5, 3.0)
    im = Image.new("RGB", (SIDE, SIDE), "white")
    draw = ImageDraw.Draw(im)
    for line in strokes:
        points = []
        for (x0, y0), (x1, y1) in zip(line, line[1:]):
            steps = max(2, int(math.hypot(x1 - x0, y1 - y0) * 20))
            points += [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t) for t in np.linspace(0, 1, steps, endpoint=False)]
        points.append(line[-1])
        placed = []
        for x, y in points:
            u, v = x - 0.5, y - 0.5
            u, v = u * math.cos(tilt) - v * math.sin(tilt), u * math.sin(tilt) + v * math.cos(tilt)
            placed.append((ox + (u + 0.5) * sx + rng.normal(0, wobble), oy + (v + 0.5) * sy + rng.normal(0, wobble)))
        draw.line(placed, fill="black", width=pen, joint="curve")
        for x, y in (placed[0], placed[-1]):
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill="black")
    buffer = io.BytesIO()
    im.convert("L").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def sketch(kind, styles: int, seed: int, style: int | None = None) -> bytes:
    """One drawing of `kind` (a shape function with `styles` styles); the style cycles with the seed unless given."""
    rng = np.random.default_rng(seed)
    return render(kind(rng, seed % styles if style is None else style), rng)


# How many drawings of each set are written
SETS = {
    "teach": 10,  # examples per item taught, its styles in turn
    "heldout": 20,  # other drawings of the item, every style
    "builtin": 3,  # drawings per built-in class
    "dev_builtin": 20,  # drawings per built-in class for tuning: more, so a setting that changes one answer shows
}


def write(out: Path = DATA) -> list[Path]:
    written = []

    def save(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)

    sets = ((out, ITEMS, 1000), (out / "dev", DEV_ITEMS, 20000), (out / "dev", LOOKALIKE_ITEMS, 30000))
    for where, items, first in sets:
        for k, (name, (kind, styles)) in enumerate(items.items()):
            for i in range(SETS["teach"]):
                save(where / name / f"teach_{i:02d}.png", sketch(kind, styles, first + 100 * k + i))
            for i in range(SETS["heldout"]):
                save(where / name / f"heldout_{i:02d}.png", sketch(kind, styles, first + 4000 + 100 * k + i))
    for k, (name, (kind, styles)) in enumerate(BUILTIN.items()):
        for i in range(SETS["builtin"]):
            save(out / "builtin" / f"{_stem(name)}_{i:02d}.png", sketch(kind, styles, 9000 + 100 * k + i))
        for i in range(SETS["dev_builtin"]):
            save(out / "dev" / "builtin" / f"{_stem(name)}_{i:02d}.png", sketch(kind, styles, 13000 + 100 * k + i))
    return written


def _stem(name: str) -> str:
    return name.lower().replace("/", "-").replace(" ", "-")


def builtin_files(folder: Path) -> list[tuple[Path, str]]:
    """(file, class name) of the built-in drawings in `folder` (builtin/ or dev/builtin/)."""
    stems = {_stem(name): name for name in BUILTIN}
    return [(path, stems[path.stem.rsplit("_", 1)[0]]) for path in sorted(folder.glob("*.png"))]


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.sketches", description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(DATA))
    args = p.parse_args()
    paths = write(Path(args.out))
    print(f"wrote {len(paths)} drawings ({sum(p.stat().st_size for p in paths) / 1024:.0f} KB) under {args.out}")


if __name__ == "__main__":
    main()
