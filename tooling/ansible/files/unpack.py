"""pabx apply, on the server: unpack an uploaded release and verify it before anything switches.

python3 - TARBALL RELEASE_DIR. Every file must match the checksum manifest.json gives it and no
file may be missing or extra; on any failure the release directory is removed (exit 1).
"""

import hashlib
import json
import os
import shutil
import sys
import tarfile

tarball, release = sys.argv[1], sys.argv[2]
problems = []
try:
    if os.path.exists(release):
        shutil.rmtree(release)
    os.makedirs(release, mode=0o750)
    with tarfile.open(tarball, "r:gz") as tar:
        members = tar.getmembers()
        for member in members:
            if (
                not (member.isfile() or member.isdir())
                or member.name.startswith(("/", ".."))
                or "/../" in member.name
            ):
                raise ValueError(f"unexpected member {member.name!r} in the release tarball")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(release, members, filter="data")
        else:  # Python before 3.11.4: members were checked above
            tar.extractall(release, members)
    with open(os.path.join(release, "manifest.json"), encoding="utf-8") as fh:
        expected = json.load(fh)["files"]
    found = set()
    for folder, _dirs, names in os.walk(release):
        for name in names:
            found.add(os.path.relpath(os.path.join(folder, name), release))
    found.discard("manifest.json")
    for rel in sorted(found - set(expected)):
        problems.append(f"{rel}: not in manifest.json")
    for rel, digest in sorted(expected.items()):
        try:
            with open(os.path.join(release, rel), "rb") as fh:
                actual = hashlib.sha256(fh.read()).hexdigest()
        except OSError as exc:
            problems.append(f"{rel}: {exc.strerror}")
            continue
        if actual != digest:
            problems.append(f"{rel}: checksum {actual[:12]} is not manifest.json's {digest[:12]}")
except (OSError, ValueError, KeyError, tarfile.TarError) as exc:
    problems.append(f"{type(exc).__name__}: {exc}")
finally:
    if os.path.exists(tarball):
        os.unlink(tarball)
if problems:
    shutil.rmtree(release, ignore_errors=True)
    print("release verification failed: " + "; ".join(problems[:10]))
    sys.exit(1)
print(f"verified {len(expected)} files against manifest.json")
