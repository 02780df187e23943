#!/usr/bin/env python3
"""Reference aggregation of a Panoptes classification export with panoptes_aggregation itself
(its question extractor, question reducer and question consensus reducer, keeping each
volunteer's last classification as its `last` filter does), for the question tasks.

Usage: aggregate_reference.py EXPORT.csv  -> JSON on stdout:
  {"results": {"<workflow>/<subject>/<task>": {"counts": {slug: n}, "most_likely": slug,
               "num_votes": n, "agreement": x, "max_tied": bool}},
   "slugs": {"<raw label>": "<slug>"}}
Run with the Python that has panoptes_aggregation (scripts/bootstrap makes a venv for it)."""
import csv, json, sys
from collections import defaultdict
from panoptes_aggregation.extractors.question_extractor import question_extractor, slugify_or_null
from panoptes_aggregation.reducers.question_reducer import question_reducer
from panoptes_aggregation.reducers.question_consensus_reducer import question_consensus_reducer


def question_like(value):
    if value is None or isinstance(value, (str, int, bool)):
        return True
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")))
# The question tasks of each workflow: every answer a label, a list of labels, or null.
tasks = defaultdict(dict)
for r in rows:
    for a in json.loads(r["annotations"]):
        ok = tasks[r["workflow_id"]].get(a["task"], True)
        tasks[r["workflow_id"]][a["task"]] = ok and question_like(a.get("value"))
# (workflow, subject, task) -> user -> ((created_at, classification_id), extract); a volunteer's last
# classification counts even when it lacks the task (an empty extract), as the `last` filter does.
latest = defaultdict(dict)
slugs = {}
for r in rows:
    user = r["user_name"] or "not-logged-in-" + r["user_ip"]
    by_task = defaultdict(list)
    for a in json.loads(r["annotations"]):
        by_task[a["task"]].append(a)
    for task, question in tasks[r["workflow_id"]].items():
        if not question:
            continue
        anns = by_task.get(task, [])
        for a in anns:
            values = a.get("value") if isinstance(a.get("value"), list) else [a.get("value")]
            for v in values:
                slugs[str(v) if v is not None else "(no answer)"] = slugify_or_null(v)
        extract = question_extractor({"annotations": {task: anns}}, task=task, no_version=True)
        for subject in r["subject_ids"].split(";"):
            key = (r["workflow_id"], subject.strip(), task)
            stamp = (r["created_at"], int(r["classification_id"]))
            if user not in latest[key] or latest[key][user][0] < stamp:
                latest[key][user] = (stamp, extract)

results = {}
for (workflow, subject, task), users in latest.items():
    extracts = [e for _, e in users.values()]
    counts = question_reducer(extracts, user_id=list(users.keys()), no_version=True)
    counts.pop("aggregation_version", None)
    consensus = question_consensus_reducer(extracts, no_version=True)
    top = max(counts.values()) if counts else 0
    if not counts:
        continue
    results[f"{workflow}/{subject}/{task}"] = {
        "counts": counts, "most_likely": consensus.get("most_likely"), "num_votes": consensus["num_votes"],
        "agreement": consensus.get("agreement"), "max_tied": sum(1 for n in counts.values() if n == top) > 1,
    }
json.dump({"results": results, "slugs": slugs}, sys.stdout)
