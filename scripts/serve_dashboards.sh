#!/usr/bin/env bash
# Serve the Voilà dashboards on 127.0.0.1 (configuration: notebooks/dashboards/voila.json).
#
#   scripts/serve_dashboards.sh [PORT] [NAME=KERNELS ...]
#
# Each dashboard keeps one preheated kernel ready. For a class, keep as many ready as readers who
# will open a dashboard at once, e.g. `scripts/serve_dashboards.sh 8866 recurrent_models=20` (about 100 MB
# of memory per kernel, about 300 MB for a dashboard that needs torch; the pools fill in the background
# after start-up).
# Behind a proxy that keeps the path (Binder: binder/start), DASHBOARDS_BASE_URL is the path the
# server is reached under; the proxy's page then opens the kernels' websockets from its own origin.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/notebooks/dashboards"
export JUPYTER_PATH="$root/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"  # the book's Voilà template
port="${1:-8866}"
shift || true
pools='"default": {"pool_size": 1}'
for spec in "$@"; do
  name="${spec%%=*}"; kernels="${spec#*=}"
  if [[ ! -f "$name.ipynb" || ! "$kernels" =~ ^[0-9]+$ || "$spec" != *=* ]]; then
    echo "expected NAME=KERNELS with NAME one of: $(basename -s .ipynb -a ./*.ipynb | tr '\n' ' ')and KERNELS a whole number; got '$spec'" >&2
    exit 2
  fi
  pools+=", \"$name.ipynb\": {\"pool_size\": $kernels}"
done
base="${DASHBOARDS_BASE_URL:-/}"
proxied=()
if [[ "$base" != / ]]; then proxied=("--Voila.base_url=$base" "--Voila.tornado_settings={'allow_origin': '*'}"); fi
python="$root/.venv/bin/python"
[[ -x "$python" ]] || python="$(command -v python3)"
static="$root/share/jupyter/voila/templates/stablernn/static"
# the site's figure fitting, which the template loads: our own file, copied (no fetch, so Binder has it too)
cmp -s "$root/book/static/figure-fit.js" "$static/figure-fit.js" || cp "$root/book/static/figure-fit.js" "$static/"
if [[ ! -f "$static/plotly-cartesian.min.js" ]]; then
  # the plots' plotly.js (fetched with the site's assets); without it each page asks its kernel for
  # plotly's full bundle, which works but loads slower
  (cd "$root" && "$python" scripts/fetch_assets.py >/dev/null) ||
    echo "note: could not fetch plotly.js for the dashboards; their kernels will send it" >&2
fi
voila="$root/.venv/bin/voila"
[[ -x "$voila" ]] || voila="$(command -v voila)"  # Binder's image: no .venv, Voilà on the PATH
echo "Dashboards at http://127.0.0.1:${port}${base}  (Ctrl-C to stop)"
for nb in *.ipynb; do echo "  http://127.0.0.1:${port}${base}voila/render/${nb}"; done
exec "$voila" --no-browser --port="$port" --Voila.ip=127.0.0.1 --ServerApp.port_retries=0 \
  "--VoilaKernelManager.kernel_pools_config={$pools}" ${proxied[@]+"${proxied[@]}"}
