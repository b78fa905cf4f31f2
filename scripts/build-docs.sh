#!/usr/bin/env bash
# Builds the Doxygen API reference of the public headers into build/docs/html (optional: not
# part of the build or the tests). Installs doxygen when missing (Debian 12, as root or with
# sudo), and fails when Doxygen warns about a public header, so that the reference stays complete.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v doxygen > /dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends doxygen
fi
mkdir -p build/docs
rm -f build/docs/warnings.log
doxygen docs/Doxyfile
if [ -s build/docs/warnings.log ]; then
  cat build/docs/warnings.log >&2
  echo "build-docs: $(wc -l < build/docs/warnings.log) Doxygen warning line(s), listed above" >&2
  exit 1
fi
echo "build-docs: API reference in build/docs/html/index.html"
