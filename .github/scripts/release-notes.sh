#!/usr/bin/env bash
# Print CHANGELOG.md's section for one version (without its heading): a release's notes.
#   .github/scripts/release-notes.sh 1.2.0 [CHANGELOG.md]
set -euo pipefail
version=$1
changelog=${2:-CHANGELOG.md}
notes=$(awk -v heading="## [$version]" '
  /^## \[/ { if (inside) exit; inside = index($0, heading) == 1; next }
  inside
' "$changelog")
if [ -z "${notes//[[:space:]]/}" ]; then
  echo "$changelog has no section for $version" >&2
  exit 1
fi
printf '%s\n' "$notes"
