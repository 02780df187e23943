#!/usr/bin/env python3
"""The Python baselines for `citsci bench render`: each contender renders the same triplet frames of
the same real alerts, decompression and zscale included, writing a 300 x 300 PNG per frame.

  matplotlib: astropy ImageNormalize(ZScaleInterval) + matplotlib imshow, saved by savefig (the way the
              Rubin citizen-science notebooks make their figures);
  pillow:     astropy ZScaleInterval + numpy scaling + Pillow resize and PNG.

Usage: python3 benchmarks/render_python.py --tool matplotlib|pillow [--seconds 5] [--json] FILES_OR_DIRS...
"""
import argparse, glob, gzip, io, json, os, time, warnings
import fastavro, numpy as np
from astropy.io import fits
from astropy.visualization import ZScaleInterval, ImageNormalize

warnings.simplefilter("ignore")
ap = argparse.ArgumentParser()
ap.add_argument("--tool", choices=["matplotlib", "pillow"], required=True)
ap.add_argument("--seconds", type=float, default=5)
ap.add_argument("--json", action="store_true")
ap.add_argument("paths", nargs="+")
args = ap.parse_args()

files = []
for p in args.paths:
    files += sorted(glob.glob(os.path.join(p, "**", "*.avro"), recursive=True)) if os.path.isdir(p) else [p]
stamps = []
for path in files:
    with open(path, "rb") as f:
        for rec in fastavro.reader(f):
            triplet = []
            for k in ("cutoutScience", "cutoutTemplate", "cutoutDifference"):
                c = rec.get(k)
                if c is None:
                    break
                triplet.append(c["stampData"] if isinstance(c, dict) else c)
            if len(triplet) == 3:
                stamps += triplet

def load(raw):
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return fits.getdata(io.BytesIO(raw), ext=0)

if args.tool == "matplotlib":
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(3, 3), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_axis_off()
    def render(raw):
        data = load(raw)
        ax.clear()
        ax.set_axis_off()
        ax.imshow(data, origin="lower", cmap="gray", norm=ImageNormalize(data, interval=ZScaleInterval()), interpolation="nearest")
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return len(buf.getvalue())
else:
    from PIL import Image
    zs = ZScaleInterval()
    def render(raw):
        data = load(raw).astype(np.float32)
        lo, hi = zs.get_limits(data)
        scaled = np.clip((data - lo) / (hi - lo if hi > lo else 1), 0, 1)
        img = Image.fromarray((np.nan_to_num(scaled)[::-1] * 255).astype(np.uint8), mode="L").resize((300, 300), Image.NEAREST)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return len(buf.getvalue())

render(stamps[0])
frames = nbytes = 0
start = time.perf_counter()
while time.perf_counter() - start < args.seconds:
    nbytes += render(stamps[frames % len(stamps)])
    frames += 1
elapsed = time.perf_counter() - start
out = {"tool": "astropy + matplotlib" if args.tool == "matplotlib" else "astropy zscale + numpy + Pillow",
       "frames": frames, "seconds": elapsed, "frames_per_s": frames / elapsed, "mean_png_bytes": nbytes // max(frames, 1)}
print(json.dumps(out) if args.json else f"{out['tool']}: {frames} frames in {elapsed:.2f} s: {out['frames_per_s']:.0f} frames/s")
