#!/usr/bin/env python3
"""Builds the reader schemas citsci owns (schemas/rubin-alert.avsc, schemas/ztf-alert.avsc).

Each reader schema is the union of every official writer schema version of that survey: every field
that ever existed, typed with the widest numeric type seen, nullable with a null default. Avro
schema resolution then maps any of those versions onto one layout (DESIGN.md rule 3).

Sources: the Rubin alert schemas of the PyPI package lsst-alert-packet (versions 7.0 and later),
and the ZTF `ztf.alert` writer schemas embedded in the sample alerts of ../shared/data (1.7 to 4.02).
Run: python3 scripts/make_reader_schemas.py [--data ../shared/data]
The binary embeds the files it writes (schemas/OwnedSchemas.swift: SwiftPM embedInCode resources).
"""
import argparse, glob, json, os, sys
import fastavro
from fastavro.schema import load_schema

WIDTH = {"boolean": 0, "int": 1, "long": 2, "float": 3, "double": 4}


def strip_null(t):
    if isinstance(t, list):
        rest = [b for b in t if b != "null"]
        if len(rest) != 1:
            raise ValueError(f"union with several non-null branches: {t}")
        return rest[0]
    return t


def kind(t):
    t = strip_null(t)
    if isinstance(t, str):
        return t
    return t["type"]


def merge_type(a, b, where):
    """Merge two non-null types seen for the same field in two versions."""
    if a is None:
        return b
    ka, kb = kind(a), kind(b)
    if ka == "record" and kb == "record":
        return merge_record(a, b, where)
    if ka == "array" and kb == "array":
        return {"type": "array", "items": merge_type(strip_null(a["items"]), strip_null(b["items"]), where + "[]")}
    if ka == "map" and kb == "map":
        return {"type": "map", "values": merge_type(strip_null(a["values"]), strip_null(b["values"]), where + "{}")}
    if ka in WIDTH and kb in WIDTH:
        return a if WIDTH[ka] >= WIDTH[kb] else b
    if ka == kb:
        return b  # the later version wins (enum symbols, fixed sizes)
    raise ValueError(f"{where}: incompatible types across versions: {ka} and {kb}")


def merge_record(a, b, where):
    fields = {}
    order = []
    for rec in (a, b):
        for f in rec.get("fields", []):
            t = strip_null(f["type"])
            if f["name"] not in fields:
                order.append(f["name"])
                fields[f["name"]] = {"name": f["name"], "type": None, "doc": f.get("doc")}
            entry = fields[f["name"]]
            entry["type"] = merge_type(entry["type"], t, f"{where}.{f['name']}")
            if f.get("doc"):
                entry["doc"] = f["doc"]
    return {"type": "record", "name": b.get("name", a.get("name")), "fields": [fields[n] for n in order]}


def finish(t, namespace, name_hint, seen):
    """Makes every field nullable with a null default and gives records unique names in our namespace."""
    t = strip_null(t)
    k = kind(t)
    if k == "record":
        name = name_hint
        i = 2
        while name in seen:
            name, i = f"{name_hint}{i}", i + 1
        seen.add(name)
        out = {"type": "record", "name": name, "namespace": namespace, "fields": []}
        for f in t["fields"]:
            inner = finish(f["type"], namespace, f["name"], seen)
            field = {"name": f["name"], "type": ["null", inner], "default": None}
            if f.get("doc"):
                field["doc"] = f["doc"]
            out["fields"].append(field)
        return out
    if k == "array":
        return {"type": "array", "items": finish(t["items"], namespace, name_hint + "_item", seen)}
    if k == "map":
        return {"type": "map", "values": finish(t["values"], namespace, name_hint + "_value", seen)}
    if k == "enum":
        return {"type": "enum", "name": name_hint + "_enum", "namespace": namespace, "symbols": t["symbols"]}
    if k == "fixed":
        return {"type": "fixed", "name": name_hint + "_fixed", "namespace": namespace, "size": t["size"]}
    return t if isinstance(t, str) else t["type"]


def rubin_writer_schemas():
    import lsst.alert.packet as pkt
    root = os.path.join(os.path.dirname(pkt.__file__), "schema")
    out = []
    for path in sorted(glob.glob(os.path.join(root, "*", "*", "lsst.v*_*.alert.avsc"))):
        major = int(path.split(os.sep)[-3])
        if major < 3:
            continue
        named = {}
        folder = os.path.dirname(path)
        # load_schema resolves the sibling named types (diaSource, diaObject, ...).
        out.append((path, fastavro.schema.expand_schema(load_schema(path, named_schemas=named, _write_hint=False))))
    return out


def ztf_writer_schemas(data):
    out = []
    for path in sorted(glob.glob(os.path.join(data, "**", "*.avro"), recursive=True)):
        with open(path, "rb") as f:
            try:
                r = fastavro.reader(f)
            except Exception:
                continue
            s = r.writer_schema
        if s.get("name") == "ztf.alert" or (s.get("name") == "alert" and s.get("namespace") == "ztf"):
            out.append((path, fastavro.schema.expand_schema(s)))
    return out


def build(writers, namespace):
    merged = None
    for path, s in writers:
        merged = s if merged is None else merge_record(merged, s, "alert")
    result = finish(merged, namespace, "alert", set())
    return result


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(here, "..", "schemas"))
    args = ap.parse_args()
    rubin = rubin_writer_schemas()
    ztf = ztf_writer_schemas(args.data)
    if not ztf:
        sys.exit(f"no ztf.alert writer schemas found under {args.data}")
    for name, writers, ns, doc in (
        ("rubin-alert.avsc", rubin, "citsci.rubin", "Rubin/LSST alert, union of lsst-alert-packet schema versions "),
        ("ztf-alert.avsc", ztf, "citsci.ztf", "ZTF alert, union of ztf.alert schema versions "),
    ):
        schema = build(writers, ns)
        versions = sorted({os.path.basename(p).split(".alert")[0] if p.endswith(".avsc") else str(json.dumps(s.get("doc", ""))) for p, s in writers})
        schema["doc"] = doc + ("7.0-11.x" if ns.endswith("rubin") else "1.7-4.x") + f", merged from {len(writers)} writer schemas by scripts/make_reader_schemas.py"
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(schema, f, indent=1)
            f.write("\n")
        print(f"wrote {name}: {len(writers)} writer schemas, {len(schema['fields'])} top-level fields")


if __name__ == "__main__":
    main()
