#!/usr/bin/env python3
"""Frames real Rubin alerts as the Rubin stream sends them: each record of the given container files
re-encoded with the official lsst-alert-packet schema of VERSION (schemaless Avro), behind the
Confluent header (0x00, big-endian schema id = 100*major + minor). Writes OUT/<n>.bin."""
import argparse, io, os, struct
import fastavro
from fastavro.schema import load_schema

ap = argparse.ArgumentParser()
ap.add_argument("--schema-root", required=True)
ap.add_argument("--version", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("files", nargs="+")
args = ap.parse_args()
major, minor = (int(x) for x in args.version.split("."))
schema = load_schema(os.path.join(args.schema_root, str(major), str(minor), f"lsst.v{major}_{minor}.alert.avsc"))
header = b"\x00" + struct.pack(">I", 100 * major + minor)
n = 0
for path in args.files:
    with open(path, "rb") as f:
        for rec in fastavro.reader(f):
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, schema, rec)
            with open(os.path.join(args.out, f"{n}.bin"), "wb") as out:
                out.write(header + buf.getvalue())
            n += 1
print(n)
