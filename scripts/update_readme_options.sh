#!/usr/bin/env bash
# Regenerates the README's option reference from the option help in the registries:
# replaces the text between the BEGIN/END `lrlab list --markdown` markers with that command's output
# (tests/apps/list_command_test.cpp fails until this has been run after an option or its help changed).
# Usage: bash scripts/update_readme_options.sh [path/to/lrlab]   (default build/apps/lrlab)
set -euo pipefail
cd "$(dirname "$0")/.."
lrlab=${1:-build/apps/lrlab}
generated=$("$lrlab" list --markdown)
python3 - "$generated" <<'PY'
import sys
begin, end = "<!-- BEGIN lrlab list --markdown -->\n", "<!-- END lrlab list --markdown -->"
text = open("README.md").read()
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open("README.md", "w").write(head + begin + "\n" + sys.argv[1] + "\n\n" + end + tail)
PY
echo "README.md: option reference regenerated"
