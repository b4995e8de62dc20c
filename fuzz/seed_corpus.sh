#!/usr/bin/env bash
# Writes a seed corpus for every fuzz target from the SQL in tests/vectors/*.json.
# Each seed is one dialect byte (0 = postgresql, 1 = mysql, 2 = sqlite, as the
# targets read it) followed by the vector's `sql` string. Duplicates are dropped
# (file name = SHA-1 of the content, as libFuzzer names corpus files).
#
# Usage: fuzz/seed_corpus.sh            (from anywhere; needs python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

python3 - "$root" "$here" <<'PY'
import glob, hashlib, json, os, sys

root, fuzz = sys.argv[1], sys.argv[2]
dialect_byte = {"postgresql": 0, "postgres": 0, "mysql": 1, "sqlite": 2}
targets = sorted(
    os.path.splitext(name)[0]
    for name in os.listdir(os.path.join(fuzz, "fuzz_targets"))
    if name.endswith(".rs")
)

seeds = set()
for path in sorted(glob.glob(os.path.join(root, "tests", "vectors", "*.json"))):
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)
    for vector in vectors:
        sql, dialect = vector.get("sql"), vector.get("dialect")
        if not isinstance(sql, str) or dialect not in dialect_byte:
            continue
        seeds.add(bytes([dialect_byte[dialect]]) + sql.encode("utf-8"))

for target in targets:
    out = os.path.join(fuzz, "corpus", target)
    os.makedirs(out, exist_ok=True)
    for seed in seeds:
        with open(os.path.join(out, hashlib.sha1(seed).hexdigest()), "wb") as f:
            f.write(seed)
    print(f"{target}: {len(seeds)} seeds -> {os.path.relpath(out, root)}")
PY
