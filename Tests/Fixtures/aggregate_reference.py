#!/usr/bin/env python3
"""Reference aggregation of a Panoptes classification export with panoptes_aggregation itself
(its question extractor, question reducer and question consensus reducer, keeping each
volunteer's last classification as its `last` filter does), for the question tasks.

And the survey tasks, with its survey extractor and survey reducer as its batch scripts run them
(one extract row per choice marked, identical rows dropped, each volunteer's last classification):
`choice_count` is panoptes_aggregation's, `volunteers` the volunteers who marked the choice, and
`repeat_with_other_answers` says a volunteer marked the choice twice with different sub-answers
(two rows there, one volunteer). A task's `volunteers` are those whose last classification has a
survey annotation for it, one with nothing marked included.

Usage: aggregate_reference.py EXPORT.csv  -> JSON on stdout:
  {"results": {"<workflow>/<subject>/<task>": {"counts": {slug: n}, "most_likely": slug,
               "num_votes": n, "agreement": x, "max_tied": bool}},
   "slugs": {"<raw label>": "<slug>"},
   "survey": {"<workflow>/<subject>/<task>": {"choices": {slug: {"choice_count": n, "volunteers": v,
              "repeat_with_other_answers": bool}}, "volunteers": n}},
   "choice_slugs": {"<raw choice>": "<slug>"}}
Run with the Python that has panoptes_aggregation (scripts/bootstrap makes a venv for it)."""
import csv, json, sys
from collections import defaultdict
from panoptes_aggregation.extractors.question_extractor import question_extractor, slugify_or_null
from panoptes_aggregation.reducers.question_reducer import question_reducer
from panoptes_aggregation.reducers.question_consensus_reducer import question_consensus_reducer
from panoptes_aggregation.extractors.survey_extractor import survey_extractor
from panoptes_aggregation.reducers.survey_reducer import survey_reducer
from slugify import slugify


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
def survey_like(value):
    return isinstance(value, list) and any(isinstance(v, dict) and "choice" in v for v in value)

# The survey tasks of each workflow, and each volunteer's last classification of each subject (the
# `last` filter): a last classification without the task counts as no choice.
survey_tasks = defaultdict(set)
for r in rows:
    for a in json.loads(r["annotations"]):
        if survey_like(a.get("value")):
            survey_tasks[r["workflow_id"]].add(a["task"])
last_of = defaultdict(dict)  # (workflow, subject) -> user -> row
for r in rows:
    if not survey_tasks[r["workflow_id"]]:
        continue
    user = r["user_name"] or "not-logged-in-" + r["user_ip"]
    for subject in r["subject_ids"].split(";"):
        key = (r["workflow_id"], subject.strip())
        stamp = (r["created_at"], int(r["classification_id"]))
        old = last_of[key].get(user)
        if old is None or (old["created_at"], int(old["classification_id"])) < stamp:
            last_of[key][user] = r
survey_latest = defaultdict(dict)  # (workflow, subject, task) -> user -> (None, [extract rows])
choice_slugs = {}
for (workflow, subject), users in last_of.items():
    for user, r in users.items():
        anns_by_task = defaultdict(list)
        for a in json.loads(r["annotations"]):
            anns_by_task[a["task"]].append(a)
        for task in survey_tasks[workflow]:
            # A survey annotation with nothing marked (`[]`) is a volunteer who did the task and saw
            # nothing: counted among the task's volunteers (citsci's fraction denominator), no extract.
            anns = [a for a in anns_by_task.get(task, []) if isinstance(a.get("value"), list)]
            if not anns:
                continue  # no survey annotation: not a volunteer of this task
            for a in anns:
                for v in a["value"]:
                    if isinstance(v, dict) and "choice" in v:
                        choice_slugs[v["choice"]] = slugify(v["choice"], separator="-")
            extracts = survey_extractor({"annotations": {task: anns}}, task=task, no_version=True)
            # The batch scripts make a row per extract and drop identical rows (same classification).
            unique, seen = [], set()
            for e in extracts:
                k = json.dumps(e, sort_keys=True)
                if k not in seen:
                    seen.add(k)
                    unique.append(e)
            survey_latest[(workflow, subject, task)][user] = (None, unique)

survey = {}
for (workflow, subject, task), users in survey_latest.items():
    rows_in = [dict(e) for _, extracts in users.values() for e in extracts]
    reduction = survey_reducer(rows_in, no_version=True) if rows_in else []
    choices = {}
    for red in reduction:
        marked = [u for u, (_, ex) in users.items() if any(e["choice"] == red["choice"] for e in ex)]
        repeated = any(sum(1 for e in ex if e["choice"] == red["choice"]) > 1 for _, ex in users.values())
        choices[red["choice"]] = {"choice_count": red["choice_count"], "volunteers": len(marked),
                                  "repeat_with_other_answers": repeated}
    survey[f"{workflow}/{subject}/{task}"] = {"choices": choices, "volunteers": len(users)}

json.dump({"results": results, "slugs": slugs, "survey": survey, "choice_slugs": choice_slugs}, sys.stdout)
