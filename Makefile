.DEFAULT_GOAL := help
UV ?= uv

.PHONY: help demo test test-fast lint docs
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

demo: ## scaffold ./demo with default answers and show it train, register, serve and predict
	$(UV) run goldpath demo

test: ## this repository's tests (the command CI runs)
	$(UV) run pytest

test-fast: ## the quick subset: options, rendering and linting, infra, boundaries (~1.5 min)
	$(UV) run pytest -m "not slow"

lint: ## ruff, format check and mypy on the generator
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

docs: ## build the documentation site into site/ (strict: a broken link fails); mkdocs serve to read it
	NO_MKDOCS_2_WARNING=1 $(UV) run mkdocs build --strict
