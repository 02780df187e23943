#!/usr/bin/env python3
"""Computes astropy's ZScaleInterval limits for the cutouts of real alerts in ../shared/data and writes
them to Tests/Fixtures/zscale-reference.json, which the stamp tests compare citsci's zscale against.
Run once (values, not data, are committed): python3 scripts/zscale_reference.py"""
import glob, gzip, io, json, os, warnings
import fastavro, numpy as np
import astropy
from astropy.io import fits
from astropy.visualization import ZScaleInterval

warnings.simplefilter("ignore")
here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "..", "..", "shared", "data")
files = sorted(glob.glob(os.path.join(data, "ztf-alerts", "*.avro")))[:12] \
    + sorted(glob.glob(os.path.join(data, "rubin-9.0", "*.avro")))[:12] \
    + [os.path.join(data, "fink-client-datatest", "lsst_part-2-918301.avro")] \
    + sorted(glob.glob(os.path.join(data, "ztf-avro-alert-history", "*.avro")))[:4]
out = []
for path in files:
    with open(path, "rb") as f:
        for index, rec in enumerate(fastavro.reader(f)):
            for kind in ("Science", "Template", "Difference"):
                c = rec.get("cutout" + kind)
                if c is None:
                    continue
                raw = c["stampData"] if isinstance(c, dict) else c
                if raw[:2] == b"\x1f\x8b":
                    raw = gzip.decompress(raw)
                image = fits.getdata(io.BytesIO(raw), ext=0)
                vmin, vmax = ZScaleInterval().get_limits(image)
                out.append({"file": os.path.relpath(path, data), "record": index, "cutout": kind.lower(),
                            "vmin": float(vmin), "vmax": float(vmax)})
with open(os.path.join(here, "..", "Tests", "Fixtures", "zscale-reference.json"), "w") as f:
    json.dump({"astropy": astropy.__version__, "limits": out}, f, indent=0)
print(f"{len(out)} cutouts")
