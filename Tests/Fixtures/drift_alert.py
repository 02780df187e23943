#!/usr/bin/env python3
"""Re-writes real alerts with fastavro under a writer schema derived from the official one by one
kind of type drift that brokers' re-serialisations cause, so the decoder is tested on what it will
meet, written by another Avro implementation.

  drift_alert.py KIND SRC.avro OUT.avro

KIND: long     every int written as long
      double   every float written as double
      spark    what Spark's to_avro does: every field a nullable union, records renamed topLevelRecord
               (nested ones topLevelRecord_<field>), no namespaces or docs
      rename   candidate.magpsf renamed mag_psf, the old name kept as the writer field's alias
      overflow every int written as long, and candidate.fid set to 2**40 (does not fit an int)
"""
import copy, sys
import fastavro
from fastavro.schema import parse_schema


def retype(t, old, new):
    if isinstance(t, str):
        return new if t == old else t
    if isinstance(t, list):
        return [retype(b, old, new) for b in t]
    t = dict(t)
    if t.get("type") == "record":
        t["fields"] = [dict(f, type=retype(f["type"], old, new)) for f in t["fields"]]
    elif t.get("type") == "array":
        t["items"] = retype(t["items"], old, new)
    elif t.get("type") == "map":
        t["values"] = retype(t["values"], old, new)
    elif t.get("type") in ("int", "float"):
        t["type"] = retype(t["type"], old, new)
    return t


def spark(t, name):
    """Spark's shape: records named topLevelRecord[_path], every field nullable."""
    if isinstance(t, list):
        inner = [spark(b, name) for b in t if b != "null"]
        return ["null"] + inner if "null" in t else inner
    if isinstance(t, str):
        return t
    t = dict(t)
    kind = t.get("type")
    if kind == "record":
        fields = []
        for f in t["fields"]:
            ft = spark(f["type"], name + "_" + f["name"])
            if not (isinstance(ft, list) and "null" in ft):
                ft = ["null"] + (ft if isinstance(ft, list) else [ft])
            fields.append({"name": f["name"], "type": ft, "default": None})
        return {"type": "record", "name": name, "fields": fields}
    if kind == "array":
        return {"type": "array", "items": spark(t["items"], name)}
    if kind == "map":
        return {"type": "map", "values": spark(t["values"], name)}
    if kind == "enum":
        return {"type": "enum", "name": name, "symbols": t["symbols"]}
    if kind == "fixed":
        return {"type": "fixed", "name": name, "size": t["size"]}
    return t


def expand(t, named):
    """The schema with every named type written out in full (no references), for transforming."""
    if isinstance(t, str):
        return copy.deepcopy(named[t]) if t in named else t
    if isinstance(t, list):
        return [expand(b, named) for b in t]
    t = dict(t)
    if t.get("type") in ("record", "enum", "fixed"):
        full = t["name"] if "." in t["name"] or "namespace" not in t else t["namespace"] + "." + t["name"]
        if t.get("type") == "record":
            t["fields"] = [dict(f, type=expand(f["type"], named)) for f in t["fields"]]
        named[full] = t
        named[t["name"]] = t
    elif t.get("type") == "array":
        t["items"] = expand(t["items"], named)
    elif t.get("type") == "map":
        t["values"] = expand(t["values"], named)
    return t


def dedupe(t, seen):
    """Each named type in full where it first appears, by name afterwards (as Avro requires)."""
    if isinstance(t, list):
        return [dedupe(b, seen) for b in t]
    if isinstance(t, str):
        return t
    t = dict(t)
    if t.get("type") in ("record", "enum", "fixed"):
        if t["name"] in seen:
            return t["name"]
        seen.add(t["name"])
        if t.get("type") == "record":
            t["fields"] = [dict(f, type=dedupe(f["type"], seen)) for f in t["fields"]]
    elif t.get("type") == "array":
        t["items"] = dedupe(t["items"], seen)
    elif t.get("type") == "map":
        t["values"] = dedupe(t["values"], seen)
    return t


def main():
    kind, src, out = sys.argv[1:4]
    with open(src, "rb") as f:
        reader = fastavro.reader(f)
        schema = reader.writer_schema
        records = list(reader)
    schema = expand(schema, {})
    if kind in ("long", "overflow"):
        schema = retype(schema, "int", "long")
    elif kind == "double":
        schema = retype(schema, "float", "double")
    elif kind == "spark":
        schema = spark(schema, "topLevelRecord")
    elif kind == "rename":
        for f in schema["fields"]:
            if f["name"] == "candidate":
                cand = f["type"] if isinstance(f["type"], dict) else next(b for b in f["type"] if isinstance(b, dict))
                for cf in cand["fields"]:
                    if cf["name"] == "magpsf":
                        cf["name"] = "mag_psf"
                        cf["aliases"] = ["magpsf"]
        for r in records:
            r["candidate"]["mag_psf"] = r["candidate"].pop("magpsf")
    else:
        sys.exit(f"unknown drift {kind}")
    if kind == "overflow":
        for r in records:
            r["candidate"]["fid"] = 2 ** 40
    with open(out, "wb") as f:
        fastavro.writer(f, parse_schema(dedupe(schema, set())), records)


if __name__ == "__main__":
    main()
