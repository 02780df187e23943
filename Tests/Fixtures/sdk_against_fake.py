#!/usr/bin/env python3
"""Drives the official Zooniverse client (panoptes-client, from PyPI) through every operation citsci's
push makes, against the fake Panoptes, to prove the fake honest: nothing the SDK sends may be refused,
and the fake must refuse what Panoptes refuses (duplicate set names, a set linked twice to a workflow,
a subject added twice to a set, removing a subject that is not in a set). Prints one JSON object:
{"ok": [steps that passed], "refused": {rule: status}, "sdk": version}; exits 1 on any failure.
Usage: sdk_against_fake.py ENDPOINT LOGIN PASSWORD PROJECT WORKFLOW"""
import importlib.metadata, json, os, struct, sys, tempfile, zlib
from panoptes_client import Panoptes, Project, Workflow, SubjectSet, Subject
from panoptes_client.panoptes import PanoptesAPIException

endpoint, login, password, project_id, workflow_id = sys.argv[1:6]
ok, refused, failures = [], {}, []

def step(name, fn):
    try:
        value = fn()
        ok.append(name)
        return value
    except Exception as e:  # the SDK raises PanoptesAPIException with the server's message
        failures.append(f"{name}: {type(e).__name__}: {e}")
        return None

def must_refuse(rule, fn, expect):
    try:
        fn()
        failures.append(f"{rule}: accepted, but Panoptes refuses it")
    except PanoptesAPIException as e:
        text = str(e)
        if expect not in text:
            failures.append(f"{rule}: refused with {text!r}, Panoptes says {expect!r}")
        refused[rule] = text

# Sign-in as the SDK does it: CSRF token, POST /users/sign_in, then the password grant with the session cookie.
step("sign in (session cookie, password grant)", lambda: Panoptes.connect(endpoint=endpoint, username=login, password=password))
project = step("find project", lambda: Project.find(project_id))
workflow = step("find workflow", lambda: Workflow.find(workflow_id))

def make_set():
    s = SubjectSet()
    s.links.project = project
    s.display_name = "sdk-set"
    s.save()
    return s
subject_set = step("create subject set", make_set)
step("link set to workflow", lambda: workflow.links.subject_sets.add(subject_set))

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
png = tempfile.NamedTemporaryFile(suffix=".png", delete=False)  # a real 1 x 1 grey PNG: the SDK sniffs the type with libmagic
png.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
          + chunk(b"IDAT", zlib.compress(b"\0\x80")) + chunk(b"IEND", b""))
png.close()
def make_subject():
    s = Subject()
    s.links.project = project
    s.add_location(png.name)
    s.metadata.update({"#alert_id": "sdk-1", "objectId": "ZTF00sdk"})
    s.save()  # POST /api/subjects, then a PUT of the frame to its signed URL
    return s
subject = step("create subject and upload its frame", make_subject)
step("add subject to set", lambda: subject_set.add(subject))
step("remove subject from set", lambda: subject_set.remove(subject))
step("add subject to set again", lambda: subject_set.add(subject))
step("retire subject", lambda: workflow.retire_subjects([subject], "other"))
step("list the set's subjects", lambda: list(Subject.where(subject_set_id=subject_set.id)))
os.unlink(png.name)

# What Panoptes refuses (its models' uniqueness validations, RecordInvalid → 400; a missing link → 404),
# sent through the SDK's own HTTP layer, as a client that does not check first would.
client = Panoptes.client()
def duplicate_set():
    s = SubjectSet()
    s.links.project = project
    s.display_name = "sdk-set"
    s.save()
must_refuse("set name unique per project", duplicate_set, "Display name has already been taken")
must_refuse("set on a workflow once", lambda: client.post(f"/workflows/{workflow_id}/links/subject_sets",
                                                          json={"subject_sets": [subject_set.id]}), "Workflow has already been taken")
must_refuse("subject in a set once", lambda: client.post(f"/subject_sets/{subject_set.id}/links/subjects",
                                                         json={"subjects": [subject.id]}), "Subject has already been taken")
must_refuse("removing a subject not in the set", lambda: (client.delete(f"/subject_sets/{subject_set.id}/links/subjects/{subject.id}"),
                                                          client.delete(f"/subject_sets/{subject_set.id}/links/subjects/{subject.id}")),
            "Couldn't find")

print(json.dumps({"ok": ok, "refused": refused, "failures": failures, "sdk": importlib.metadata.version("panoptes-client")}))
sys.exit(1 if failures else 0)
