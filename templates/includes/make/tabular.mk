{#- The tabular kind's own targets, included by templates/project/Makefile.jinja. -#}
INPUT ?= data/to_score.csv
OUTPUT ?= outputs/scored.parquet

.PHONY: data raw-data dataset train promote rollback status docs-pack ui batch smoke export-model
{%- if has_service or databricks %} bench-dataset{% endif %}{% if databricks %} bench-batch{% endif %}{% if has_service %} serve bench soak shadow-evidence{% endif %}

data: uv ## write the generated RFQ sample (with and without labels) under data/
	$(UV) run python -m $(PACKAGE) data --output data/rfq_sample.csv
	$(UV) run python -m $(PACKAGE) data --output data/to_score.csv --rows 1000 --seed 11 --no-target

raw-data: uv ## write the generated raw desk tables (RFQs, clients, market data, trades, quotes) under data/raw/
	$(UV) run python -m $(PACKAGE) raw-data --output-dir data/raw

dataset: uv ## build data/training.parquet from data/raw/ (point in time; new dates only)
	@test -f data/raw/rfqs.parquet || $(UV) run python -m $(PACKAGE) raw-data --output-dir data/raw
	$(UV) run python -m $(PACKAGE) dataset --raw data/raw

{%- if has_service or databricks %}
bench-dataset: uv ## rows/s and peak memory of the dataset build (1M and 10M RFQs) vs a plain join
	$(UV) run python benchmarks/dataset.py
{% endif %}
train: uv ## train, evaluate and register a @challenger (on data/training.parquet once built)
	$(UV) run python -m $(PACKAGE) train

promote: uv ## move @champion to the @challenger if its evaluation gate passed
	$(UV) run python -m $(PACKAGE) promote

rollback: uv ## move @champion back to the previous champion
	$(UV) run python -m $(PACKAGE) rollback

status: uv ## which versions hold @champion and @challenger, with gate and metrics
	$(UV) run python -m $(PACKAGE) status

docs-pack: uv ## technical documentation (EU AI Act Annex IV) of @champion, or VERSION=<n>, into outputs/
	$(UV) run python -m $(PACKAGE) docs-pack $(if $(VERSION),--version $(VERSION))

ui: uv ## the MLflow UI on the local store, http://127.0.0.1:5000 (Ctrl-C stops it)
	$(UV) run mlflow ui --backend-store-uri sqlite:///.mlflow/mlflow.db --host 127.0.0.1 --port 5000

batch: uv ## score INPUT (CSV or Parquet) into OUTPUT with the @champion
# Only without an INPUT of yours is a sample generated: a path you name must exist.
ifeq ($(origin INPUT),file)
	@test -f $(INPUT) || $(UV) run python -m $(PACKAGE) data --output $(INPUT) --rows 1000 --seed 11 --no-target
endif
	$(UV) run python -m $(PACKAGE) batch --input $(INPUT) --output $(OUTPUT)

smoke: uv ## score 100 generated rows with the @champion (what CI runs after a deploy{% if batch_only %} of the job{% endif %})
	$(UV) run python -m $(PACKAGE) smoke

{%- if databricks %}
bench-batch: uv ## rows/s of the pandas and Spark engines vs the bare predict (1M rows)
	$(UV) run python benchmarks/batch_scoring.py
{% endif %}
export-model: uv ## copy the @champion into model/ to bake it into an image (MODEL_DIR)
	$(UV) run python -m $(PACKAGE) export-model --dest model
{%- if has_service %}

bench: uv ## requests/s and latency vs mlflow models serve and the HTTP ceiling (wrk)
	$(UV) run python benchmarks/serving.py

shadow-evidence: uv ## record the @challenger's live shadow evidence (SHADOW_LOG_DIR) on its version
	$(UV) run python -m $(PACKAGE) shadow-evidence

soak: uv ## 60 s at the benchmark load: zero errors and RSS growth <= 10% after warm-up
	$(UV) run python benchmarks/soak.py

serve: uv ## serve the @champion on HOST:PORT (gunicorn, WORKERS processes)
	HOST=$(HOST) PORT=$(PORT) WEB_CONCURRENCY=$(WORKERS) OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
		$(UV) run gunicorn --config gunicorn.conf.py '{{ app_module }}:create_app()'
{%- endif %}