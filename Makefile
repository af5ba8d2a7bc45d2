# The two quick-start commands of the README, and a few helpers.
.PHONY: demo test lint bench fixtures

demo:
	scripts/install.sh
	.venv/bin/arinspect demo

test:
	scripts/install.sh dev,train,ray
	.venv/bin/ruff check .
	.venv/bin/python -m pytest -q

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench:
	.venv/bin/python benchmarks/bench_render.py
	.venv/bin/python benchmarks/bench_pose.py
	.venv/bin/python benchmarks/bench_calibration.py
	.venv/bin/python benchmarks/bench_sync.py
	.venv/bin/python benchmarks/bench_detector.py
	.venv/bin/python benchmarks/bench_inspection.py
	.venv/bin/python benchmarks/bench_annotate.py
	PYTHONPATH=. .venv/bin/python benchmarks/bench_viewer.py
	.venv/bin/python benchmarks/bench_batch.py

fixtures:
	PATH="$(CURDIR)/.venv/bin:$$PATH" bash tests/fixtures/regenerate.sh
