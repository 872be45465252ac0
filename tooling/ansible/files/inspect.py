"""pabx apply and drift, on the server: take the apply lock, then report what is live, as JSON.

Run by apply.yml through `raw` (one SSH exec, no module upload): python3 - ETC STALE_S LOCK_JSON.
LOCK_JSON empty: check mode, no lock taken. The lock is a file created with O_EXCL (only one
apply wins) holding its owner and time; one older than STALE_S seconds is broken.
"""

import hashlib
import json
import os
import sys
import time

etc, stale_s, lock_json = sys.argv[1], float(sys.argv[2]), sys.argv[3]
out: dict[str, object] = {"lock": "skipped", "held_by": "", "broke_stale": False}
lock = os.path.join(etc, "pabx-apply.lock")
if lock_json:
    try:
        if time.time() - os.stat(lock).st_mtime > stale_s:
            os.unlink(lock)
            out["broke_stale"] = True
    except FileNotFoundError:
        pass
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        try:
            with open(lock, encoding="utf-8") as fh:
                held_by = fh.read().strip()
        except OSError:
            held_by = "(unreadable)"
        # the same run asking again (a retried inspection) already holds it
        out["lock"] = "taken" if held_by == lock_json else "held"
        out["held_by"] = held_by
    else:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(lock_json + "\n")
        out["lock"] = "taken"
        os.makedirs(os.path.join(etc, "pabx-releases"), mode=0o750, exist_ok=True)


def read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


link = os.path.join(etc, "pabx")
out["live"] = read_json(os.path.join(etc, "pabx-live.json"))
out["link"] = os.readlink(link) if os.path.islink(link) else ""
manifest = read_json(os.path.join(link, "manifest.json")) if out["link"] else {}
files = manifest.get("files") or {}
out["live_files"] = files
intact = bool(files)
for rel, digest in files.items():
    try:
        with open(os.path.join(link, rel), "rb") as raw:
            intact = intact and hashlib.sha256(raw.read()).hexdigest() == digest
    except OSError:
        intact = False
out["intact"] = intact
actual: dict[str, str] = {}
if out["link"]:
    for folder, _dirs, names in os.walk(link):
        for name in names:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, link)
            if rel == "manifest.json":
                continue
            try:
                with open(path, "rb") as raw:
                    actual[rel] = hashlib.sha256(raw.read()).hexdigest()
            except OSError:
                actual[rel] = "(unreadable)"
out["actual_files"] = actual
marker = "; BEGIN pabx: managed by pabx apply, do not edit"
includes: list[str] = []
out["includes"] = includes
for entry in ("pjsip.conf", "extensions.conf", "queues.conf", "voicemail.conf", "cdr.conf"):
    try:
        with open(os.path.join(etc, entry), encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        continue
    if marker in text and f'#include "pabx/{entry}"' in text:
        includes.append(entry)
print(json.dumps(out))
