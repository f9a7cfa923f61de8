{#- The LLM kind's own targets, included by templates/project/Makefile.jinja. -#}
INPUT ?= examples/messages.jsonl
OUTPUT ?= outputs/extracted.parquet

.PHONY: eval promote rollback status docs-pack ui serve bench export-prompt fake-provider extract-batch

eval: uv ## evaluation gate on prompts/ (fake provider unless PROVIDER is set); registers a @challenger
	$(UV) run python -m $(PACKAGE) eval

promote: uv ## move the prompt's @champion to the @challenger (its gate passed)
	$(UV) run python -m $(PACKAGE) promote

rollback: uv ## move the prompt's @champion back to the previous champion
	$(UV) run python -m $(PACKAGE) rollback

status: uv ## which prompt versions hold @champion and @challenger, with their scores
	$(UV) run python -m $(PACKAGE) status

docs-pack: uv ## technical documentation (EU AI Act Annex IV) of @champion, or VERSION=<n>, into outputs/
	$(UV) run python -m $(PACKAGE) docs-pack $(if $(VERSION),--version $(VERSION))

ui: uv ## the MLflow UI (prompts, evaluation runs, traces), http://127.0.0.1:5000
	$(UV) run mlflow ui --backend-store-uri sqlite:///.mlflow/mlflow.db --host 127.0.0.1 --port 5000

serve: uv ## serve /extract on HOST:PORT (gunicorn, WORKERS processes; the fake provider with PROVIDER=fake)
	HOST=$(HOST) PORT=$(PORT) WEB_CONCURRENCY=$(WORKERS) $(UV) run python -m $(PACKAGE) serve

fake-provider: uv ## the fake LLM provider alone on 127.0.0.1:8900 (LATENCY_MS=200 to add latency)
	$(UV) run python -m $(PACKAGE).fake_provider --port 8900 --latency-ms $${LATENCY_MS:-0}

bench: uv ## requests/s against the Little's-law bound and added p99, fake provider at 200 ms
	$(UV) run python benchmarks/extraction.py

export-prompt: uv ## write the @champion prompt to prompt/prompt.json to bake into an image (PROMPT_FILE)
	$(UV) run python -m $(PACKAGE) export-prompt --dest prompt/prompt.json

extract-batch: uv ## extract every message of INPUT into OUTPUT with the @champion prompt (TOKEN_BUDGET caps it)
	$(UV) run python -m $(PACKAGE) extract-batch --input $(INPUT) --output $(OUTPUT)