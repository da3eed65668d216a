#!/usr/bin/env python3
"""Line charts as standalone SVG from directspec-train outputs (standard library; numpy only for
the `spectrum` mode).

  plot_svg.py curve --key erank --out F.svg --title T [--ylabel L] [--ylog]
              [--ref "LABEL=x:y,x:y"] LABEL=RUN.jsonl ...
      one polyline per run: the JSON lines' "epoch" against KEY (lines without KEY, such as the
      final summary line, are skipped); --ref adds published points (boxes); --hline
      "LABEL=y" adds a dashed horizontal reference line (e.g. a published converged value).
  plot_svg.py spectrum --out F.svg --title T LABEL=NPY_DIR ...
      singular values of the stacked user and item embeddings (user_embeddings.npy and
      item_embeddings.npy, written by --export-npy), divided by
      the largest, log scale, index 1..d; also prints each model's effective rank.
"""
import argparse
import json
import math
import os
import sys

COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
W, H = 760, 440
ML, MR, MT, MB = 72, 24, 48, 96  # margins: left, right, top, bottom (legend below the axes)


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def nice_step(span, target=6):
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def linear_ticks(lo, hi):
    if hi <= lo:
        hi = lo + 1
    step = nice_step(hi - lo)
    start = math.floor(lo / step) * step
    end = math.ceil(hi / step) * step
    n = int(round((end - start) / step))
    return start, end, [start + k * step for k in range(n + 1)]


def fmt(v):
    if v == 0:
        return "0"
    if abs(v) >= 1000 or abs(v) < 1e-3:
        return f"{v:.0e}"
    return f"{v:g}" if abs(v) >= 1 else f"{v:.3g}"


def chart(series, title, xlabel, ylabel, ylog, refs=(), xticks=None, hlines=()):
    """series: list of (label, [(x, y)], dashed). Returns the SVG text."""
    pts = [p for _, s, _ in series for p in s] + [p for _, s in refs for p in s]
    pts += [(pts[0][0], y) for _, y in hlines]
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    if xticks:
        x0, x1, xt = xticks[0], xticks[-1], xticks
    else:
        x0, x1, xt = linear_ticks(min(0, min(xs)), max(xs))
    if ylog:
        ys = [y for y in ys if y > 0]
        e0, e1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
        if e1 == e0:
            e1 += 1
        y0, y1 = e0, e1
        yt = list(range(e0, e1 + 1))
        ty = lambda v: math.log10(max(v, 10 ** e0))
    else:
        y0, y1, yt = linear_ticks(min(0, min(ys)), max(ys))
        ty = lambda v: v
    pw, ph = W - ML - MR, H - MT - MB
    X = lambda v: ML + (v - x0) / (x1 - x0) * pw
    Y = lambda v: MT + ph - (ty(v) - y0) / (y1 - y0) * ph
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="13">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="26" text-anchor="middle" font-size="15" '
           f'font-weight="bold">{esc(title)}</text>']
    for v in xt:
        out.append(f'<line x1="{X(v):.1f}" y1="{MT}" x2="{X(v):.1f}" y2="{MT + ph}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{X(v):.1f}" y="{MT + ph + 18}" text-anchor="middle">{fmt(v)}</text>')
    for v in yt:
        yy = MT + ph - (v - y0) / (y1 - y0) * ph
        label = fmt(10 ** v) if ylog else fmt(v)
        out.append(f'<line x1="{ML}" y1="{yy:.1f}" x2="{ML + pw}" y2="{yy:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{ML - 8}" y="{yy + 4:.1f}" text-anchor="end">{label}</text>')
    out.append(f'<rect x="{ML}" y="{MT}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    out.append(f'<text x="{ML + pw / 2}" y="{MT + ph + 40}" text-anchor="middle">{esc(xlabel)}</text>')
    out.append(f'<text transform="translate(18,{MT + ph / 2}) rotate(-90)" '
               f'text-anchor="middle">{esc(ylabel)}</text>')
    legend = []
    for k, (label, s, dashed) in enumerate(series):
        c = COLOURS[k % len(COLOURS)]
        d = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in s)
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2.2"{dash} points="{d}"/>')
        if len(s) <= 40:
            out += [f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="2.8" fill="{c}"/>' for x, y in s]
        legend.append((label, c, "line"))
    for k, (label, y) in enumerate(hlines):
        c = ["#555555", "#999999", "#222222"][k % 3]
        out.append(f'<line x1="{ML}" y1="{Y(y):.1f}" x2="{ML + pw}" y2="{Y(y):.1f}" stroke="{c}" '
                   f'stroke-width="1.6" stroke-dasharray="7,5"/>')
        legend.append((label, c, "dash"))
    for label, s in refs:
        out += [f'<rect x="{X(x) - 4:.1f}" y="{Y(y) - 4:.1f}" width="8" height="8" fill="none" '
                f'stroke="#000" stroke-width="1.5"/>' for x, y in s]
        legend.append((label, "#000", "box"))
    lx, ly = ML, MT + ph + 62
    for label, c, kind in legend:
        width = 44 + 7.2 * len(label)
        if lx + width > W - MR:
            lx, ly = ML, ly + 20
        if kind in ("line", "dash"):
            dash = ' stroke-dasharray="7,5"' if kind == "dash" else ""
            out.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 26}" y2="{ly - 4}" stroke="{c}" '
                       f'stroke-width="{3 if kind == "line" else 1.6}"{dash}/>')
        else:
            out.append(f'<rect x="{lx + 9}" y="{ly - 8}" width="8" height="8" fill="none" stroke="#000" stroke-width="1.5"/>')
        out.append(f'<text x="{lx + 32}" y="{ly}">{esc(label)}</text>')
        lx += width
    out.append("</svg>")
    return "\n".join(out) + "\n"


def split_arg(a):
    if "=" not in a:
        sys.exit(f"plot_svg.py: expected LABEL=PATH, got {a!r}")
    return a.rsplit("=", 1)


def read_curve(path, key):
    pts = []
    with open(path) as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{n}: not JSON ({e})")
            if d.get("final") or key not in d or "epoch" not in d:
                continue
            pts.append((float(d["epoch"]), float(d[key])))
    if not pts:
        sys.exit(f"{path}: no line has both 'epoch' and {key!r}")
    return pts


def spectrum(npy_dir):
    import numpy as np
    def load(side):
        # ExportNpy writes <side>_embeddings.npy; accept the shorter <side>.npy too.
        for name in (f"{side}_embeddings.npy", f"{side}.npy"):
            path = os.path.join(npy_dir, name)
            if os.path.exists(path):
                return np.load(path)
        sys.exit(f"{npy_dir}: no {side}_embeddings.npy or {side}.npy")

    e = np.vstack([load("user"), load("item")]).astype(np.float64)
    s = np.linalg.svd(e, compute_uv=False)
    p = s / s.sum()
    erank = float(np.exp(-(p[p > 0] * np.log(p[p > 0])).sum()))
    return [(k + 1.0, float(v / s[0])) for k, v in enumerate(s)], erank


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["curve", "spectrum"])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--title", default="")
    ap.add_argument("--key", default="erank")
    ap.add_argument("--ylabel")
    ap.add_argument("--ylog", action="store_true")
    ap.add_argument("--ref", action="append", default=[])
    ap.add_argument("--hline", action="append", default=[])
    a = ap.parse_args()
    series, refs = [], []
    if a.mode == "curve":
        for r in a.runs:
            label, path = split_arg(r)
            series.append((label, read_curve(path, a.key), False))
        for r in a.ref:
            label, pts = split_arg(r)
            refs.append((label, [tuple(map(float, p.split(":"))) for p in pts.split(",")]))
        hl = [(lab, float(y)) for lab, y in map(split_arg, a.hline)]
        svg = chart(series, a.title, "epoch", a.ylabel or a.key, a.ylog, refs, hlines=hl)
    else:
        for r in a.runs:
            label, path = split_arg(r)
            pts, er = spectrum(path)
            print(f"{label}: erank {er:.2f}, sigma_min/sigma_max {pts[-1][1]:.3g}")
            series.append((f"{label} (erank {er:.1f})", pts, False))
        d = max(len(s) for _, s, _ in series)
        ticks = [1] + [k * d // 4 for k in range(1, 5)] if d >= 8 else list(range(1, d + 1))
        svg = chart(series, a.title, "singular value index k", "σ_k / σ_1 (log scale)", True,
                    xticks=ticks)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(svg)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
