#!/bin/sh
# Regenerates the .json renderings of the vendored .yaml documents (python3 with PyYAML:
# Debian's python3-yaml). cli/tests/admission.rs checks that they match.
set -eu
cd "$(dirname "$0")"
for y in *.yaml; do
  python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), open(sys.argv[2], "w"), indent=2, sort_keys=True); open(sys.argv[2], "a").write("\n")' "$y" "${y%.yaml}.json"
done
