"""pabx apply, on the server: add or remove the marked `#include "pabx/<file>"` block of Asterisk's
own files, in one SSH exec (one `blockinfile` module run per file before; the same result).

python3 - ETC MARKER CHANGES_JSON. MARKER holds `{mark}` (BEGIN/END); CHANGES_JSON maps an entry
file to true (the block present, appended at the end when missing) or false (the block removed).
As blockinfile did: a missing file is created for a block and left missing without one; the
file is written whole through a temporary file renamed over it (its symlink followed), and
ends with mode 0640. Standard library only.
"""

import json
import os
import sys

etc, marker, changes = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
begin = (marker.replace("{mark}", "BEGIN") + "\n").encode()
end = (marker.replace("{mark}", "END") + "\n").encode()
done = []
for entry, present in sorted(changes.items()):
    path = os.path.join(etc, entry)
    if not os.path.exists(path) and not present:
        continue
    original = None
    lines: list[bytes] = []
    if os.path.exists(path):
        with open(path, "rb") as fh:
            original = fh.read()
        lines = original.splitlines(True)
    block = [begin, f'#include "pabx/{entry}"\n'.encode(), end] if present else []
    first = last = None
    for index, line in enumerate(lines):
        if line == begin:
            first = index
        if line == end:
            last = index
    if first is None or last is None:
        at = len(lines)
    else:
        at = min(first, last)
        del lines[at : max(first, last) + 1]
    if at > 0 and not lines[at - 1].endswith(b"\n"):
        lines[at - 1] += b"\n"
    lines[at:at] = block
    result = b"".join(lines)
    real = os.path.realpath(path)
    if result != original:
        tmp = os.path.join(os.path.dirname(real), f".{os.path.basename(real)}.pabx-tmp")
        with open(tmp, "wb") as fh:
            fh.write(result)
        if original is not None:
            os.chmod(tmp, os.stat(real).st_mode & 0o7777)
        os.replace(tmp, real)
    os.chmod(real, 0o640)
    done.append(entry)
print(json.dumps({"changed": done}))
