#!/usr/bin/env python3
"""Prints every record of each Avro container file as one JSON line, as fastavro decodes it
(bytes as {"$bytes": length}): the independent reference the decoder tests compare against."""
import json, sys
import fastavro


def plain(v):
    if isinstance(v, bytes):
        return {"$bytes": len(v)}
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if hasattr(v, "isoformat"):
        return {"$logical": v.isoformat()}  # a logical type fastavro converted; our decoder keeps the base value
    if isinstance(v, float):
        # Exact: a hex float is parsed without rounding on every platform.
        return {"$double": v.hex()}
    return v


for path in sys.argv[1:]:
    with open(path, "rb") as f:
        for rec in fastavro.reader(f):
            print(json.dumps(plain(rec)))
