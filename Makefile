# The two commands of README.md: `make book` builds the site, `make test` runs every test.
.PHONY: book pdf test serve dashboards bench clean

PORT ?= 8000
VOILA_PORT ?= 8866

book:
	bash scripts/build_book.sh

# The whole-book PDF alone (make book prints it too): _build/html/downloads/stablernn-book.pdf
pdf:
	@test -f _build/html/index.html || bash scripts/build_book.sh
	.venv/bin/python scripts/build_pdf.py

test:
	bash scripts/test.sh

serve:
	@test -f _build/html/index.html || bash scripts/build_book.sh
	@echo "Serving the book at http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	.venv/bin/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

dashboards:
	bash scripts/setup.sh
	bash scripts/serve_dashboards.sh $(VOILA_PORT) $(POOLS)

# Measurements (minutes; nothing is asserted). bench_book, bench_dashboards_load, bench_live, bench_redraw and bench_cold_start write the files the Performance page reads.
bench:
	bash scripts/build_book.sh
	.venv/bin/python bench/bench_book.py --out results/bench_book.json
	.venv/bin/python bench/bench_dashboards_load.py --out results/bench_dashboards_load.json
	.venv/bin/python bench/bench_dashboards_load.py --preheat yes --pool 20 --sessions 20 --out results/bench_dashboards_load_pool20.json
	.venv/bin/python bench/bench_live.py --out results/bench_live.json
	.venv/bin/python bench/bench_redraw.py --out results/bench_redraw.json
	.venv/bin/python bench/bench_cold_start.py --out results/bench_cold_start.json
	.venv/bin/python bench/bench_library.py --threads 1

clean:
	rm -rf _build _assets test-artifacts .pytest_cache .hypothesis
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
