#!/usr/bin/env bash
# Build the book: environment, the site's JavaScript, every chapter executed, HTML with zero warnings.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python scripts/fetch_assets.py

# The execution cache is keyed on notebook content only, and Sphinx re-reads only changed pages;
# outputs computed with an older library or older results files are stale, so a change there
# empties the cache and the doctrees.
key=$(cat requirements.txt $(find lib results -type f \( -name '*.py' -o -name '*.json' \) | sort) \
      | sha256sum | cut -c1-16)
if [ "$(cat _build/.library-key 2>/dev/null)" != "$key" ]; then
  rm -rf _build/.jupyter_cache _build/.doctrees _build/html
fi

# A library that prints on first use does it here, not inside a chapter where the message would reach
# the page: matplotlib (imported by music21) builds its font cache once per machine.
.venv/bin/python -c "import matplotlib.font_manager" >/dev/null 2>&1 || true

# STABLERNN_STATIC=1 makes every explorer show its static face (no kernel behind the page);
# and keeps the library's progress bars off the static pages (stablernn.progress); TQDM_DISABLE=1 does the
# same for any other library's tqdm bars.
STABLERNN_STATIC=1 TQDM_DISABLE=1 .venv/bin/jupyter-book build . --builder html -W -n --keep-going
echo "$key" > _build/.library-key

# The whole-book PDF, printed from the site by Debian's chromium (skipped, with a note, without it).
if [ -x /usr/bin/chromium ]; then
  .venv/bin/python scripts/build_pdf.py
else
  echo "NOTE: no PDF of the book: it is printed by Debian's chromium (sudo apt-get install chromium; then make pdf)"
fi
echo
echo "The book is built: $(pwd)/_build/html/index.html  (serve it with: make serve)"
