#!/usr/bin/env bash
# Run the whole test suite: library, notebooks, the built site and the dashboards in a real browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build_book.sh   # the site tests read the built book

if ! [ -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  else
    echo "NOTE: /usr/bin/chromium is missing, so the browser tests will be skipped" \
         "(install Debian's chromium: sudo apt-get install chromium)"
  fi
fi
exec .venv/bin/python -m pytest "$@"
