"""pabx apply, on an edge host: compare the edge map with what the controller rendered, install it.

python3 - inspect ETC SUMS_JSON CREATE    -> {"differ": [files whose content differs], "pending": bool}
                                             (CREATE 1: ETC is created, for the upload)
python3 - install ETC TARBALL FILES MARK  -> {"written": [...]}: FILES (JSON list) from the tarball,
                                             each written atomically (0644); MARK 1 first leaves
                                             ETC/pabx-reload-pending (removed once the reloads ran)
Only the files pabx renders are touched; anything else in ETC is left alone. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tarfile

MARKER = "pabx-reload-pending"


def digest(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return ""


def inspect(etc: str, sums: dict[str, str]) -> dict[str, object]:
    differ = sorted(rel for rel, want in sums.items() if digest(os.path.join(etc, rel)) != want)
    return {"differ": differ, "pending": os.path.exists(os.path.join(etc, MARKER))}


def install(etc: str, tarball: str, files: list[str], mark: bool) -> dict[str, object]:
    wanted = set(files)
    os.makedirs(etc, mode=0o755, exist_ok=True)
    if mark:
        with open(os.path.join(etc, MARKER), "w", encoding="utf-8") as fh:
            fh.write("edge tables copied, not yet reloaded by kamcmd: the next pabx apply reloads them\n")
    written: list[str] = []
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            rel = member.name
            if rel not in wanted:
                continue
            if not member.isfile() or rel.startswith(("/", "..")) or "/../" in rel:
                raise ValueError(f"unexpected member {rel!r} in the edge tarball")
            source = tar.extractfile(member)
            if source is None:
                raise ValueError(f"{rel!r} in the edge tarball has no content")
            data = source.read()
            dest = os.path.join(etc, rel)
            os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
            tmp = os.path.join(os.path.dirname(dest), f".{os.path.basename(dest)}.pabx-tmp")
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)  # Kamailio never reads a half-written table
            written.append(rel)
    os.unlink(tarball)
    missing = sorted(wanted - set(written))
    if missing:
        raise ValueError(f"not in the edge tarball: {', '.join(missing)}")
    return {"written": sorted(written)}


try:
    if sys.argv[1] == "inspect":
        if sys.argv[4] == "1":
            os.makedirs(sys.argv[2], mode=0o755, exist_ok=True)
        answer = inspect(sys.argv[2], json.loads(sys.argv[3]))
    else:
        answer = install(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5] == "1")
except (OSError, ValueError, tarfile.TarError) as exc:
    print(f"edge map: {exc}")
    sys.exit(1)
print(json.dumps(answer))
