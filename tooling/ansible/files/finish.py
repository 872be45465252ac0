"""pabx apply, on the server: record what is live (pabx-live.json), keep the last N releases.

python3 - ETC RECORD_JSON RELEASE_DIR PREVIOUS KEEP. The record is written to a temporary file
and renamed over the old one. Releases beyond the newest KEEP are removed, never the live one
nor the one before it (instant rollback).
"""

import json
import os
import shutil
import sys
import time

etc, record_json, release, previous, keep = sys.argv[1:6]
record = json.loads(record_json)
record["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
live = os.path.join(etc, "pabx-live.json")
tmp = live + ".tmp"
with open(tmp, "w", encoding="utf-8") as fh:
    fh.write(json.dumps(record, indent=2, sort_keys=True) + "\n")
os.chmod(tmp, 0o644)
os.replace(tmp, live)
releases = os.path.dirname(release)
dirs = [
    os.path.join(releases, name)
    for name in os.listdir(releases)
    if not name.startswith(".") and os.path.isdir(os.path.join(releases, name))
]
dirs.sort(key=lambda path: os.stat(path).st_mtime, reverse=True)
removed = []
for path in dirs[int(keep) :]:
    if path in (release, previous):
        continue
    shutil.rmtree(path, ignore_errors=True)
    removed.append(os.path.basename(path))
print(json.dumps({"time": record["time"], "removed": removed}))
