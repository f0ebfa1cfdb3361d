#!/usr/bin/env bash
# Serve the Voilà dashboards on 127.0.0.1 (configuration: voila.json and jupyter_server_config.json
# in notebooks/dashboards/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/notebooks/dashboards"
export JUPYTER_PATH="$root/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"  # the book's Voilà template
port="${1:-8866}"
echo "Dashboards at http://127.0.0.1:${port}/  (Ctrl-C to stop)"
for nb in *.ipynb; do echo "  http://127.0.0.1:${port}/voila/render/${nb}"; done
exec ../../.venv/bin/voila --no-browser --port="$port" --Voila.ip=127.0.0.1 --ServerApp.port_retries=0
