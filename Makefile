# edgecompress: every entry point a user or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EDGECOMPRESS := $(BIN)/edgecompress

# The job image to build and run (see launcher/profiles.py).
PROFILE ?= x86-tf2.12
# The twins whose images `make test` runs the job tests in.
TEST_PROFILES ?= x86-tf2.12 x86-tf2.7 x86-tf2.21
# LOCAL_BASE=1 makes the base images from Debian packages (debootstrap) instead of pulling
# python:*-slim from a registry: for air-gapped machines and CI.
LOCAL_BASE ?= 0
# EXTRA_CA=/path/bundle.pem gives pip an extra CA bundle during image builds (TLS-intercepting
# proxies); it never reaches the final image.
EXTRA_CA ?=
ifneq ($(EXTRA_CA),)
export EDGECOMPRESS_EXTRA_CA := $(EXTRA_CA)
endif

base_suite_x86-tf2.12 := bookworm
base_suite_x86-tf2.7 := bullseye
base_suite_x86-tf2.21 := bookworm
ifeq ($(LOCAL_BASE),1)
export EDGECOMPRESS_BASE_X86_TF2_12 ?= edgecompress/base:bookworm
export EDGECOMPRESS_BASE_X86_TF2_7 ?= edgecompress/base:bullseye
export EDGECOMPRESS_BASE_X86_TF2_21 ?= edgecompress/base:bookworm
endif

.PHONY: help venv engine base-image image demo lint unit integration test matrix bench \
        nano xavier x86 pull gc clean

help:
	@echo "make demo     build the job image, run the quick campaign (no download) and its report"
	@echo "make test     lint, unit tests, and the job tests in each twin image ($(TEST_PROFILES))"
	@echo "make image    build (or reuse) the job image of PROFILE=$(PROFILE)"
	@echo "make bench    launcher overhead and no-op rebuild benchmarks"
	@echo "make nano | xavier   the paper's study on the device (pull or build, preflight, run, report)"
	@echo "make x86      the paper's study on a workstation; make pull: a prebuilt image"
	@echo "make emulate-xavier  the Xavier stack under arm64 emulation (root, ~10 min)"
	@echo "variables: PROFILE, LOCAL_BASE=1 (Debian-made base images), EXTRA_CA=bundle.pem"

venv: $(BIN)/.installed
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

engine:
	@docker info >/dev/null 2>&1 || { echo "error: no Docker engine answers: start it (systemctl start docker, or dockerd &), or run .ci/run as root" >&2; exit 2; }

base-image: engine
ifeq ($(LOCAL_BASE),1)
	docker/base/make-base-image.sh $(base_suite_$(PROFILE)) edgecompress/base:$(base_suite_$(PROFILE))
endif

image: venv base-image
	$(EDGECOMPRESS) build $(PROFILE)

# The study's subsets: MODELS=MobileNetV3Small,DenseNet169 METHODS=fp16,int8,prune50 COPIES=1
# REPEATS=1 (timed compressions per model x method, at most COPIES)
CAMPAIGN_OPTS = $(if $(MODELS),--models $(MODELS)) $(if $(METHODS),--methods $(METHODS)) \
                $(if $(COPIES),--copies $(COPIES)) $(if $(REPEATS),--repeats $(REPEATS))
# Where prebuilt images live (HOST[:PORT][/NAMESPACE]); empty: build them here.
REGISTRY ?= $(EDGECOMPRESS_REGISTRY)

demo: image
	$(EDGECOMPRESS) campaign run quick --profile $(PROFILE)
	$(EDGECOMPRESS) report

lint: venv
	$(BIN)/ruff check launcher tests bench
	$(BIN)/mypy
	$(BIN)/vermin -q --no-tips --violations -t=3.6- jobs
	$(EDGECOMPRESS) schema --check

unit: venv
	$(BIN)/pytest tests/unit

# The integration tests in one twin: PROFILE picks it, TESTS narrows them.
TESTS ?= tests/integration
# What must hold under every TensorFlow version: the jobs themselves. The launcher-side tests
# (registry, campaigns) run once, in the first profile of TEST_PROFILES.
JOB_TESTS := tests/integration/test_jobs_in_containers.py tests/integration/test_study_jobs.py \
             tests/integration/test_study_bad_input.py
integration: image
	EDGECOMPRESS_TEST_PROFILE=$(PROFILE) $(BIN)/pytest $(TESTS)

matrix: venv engine
	@set -e; first=1; for profile in $(TEST_PROFILES); do \
	  if [ $$first = 1 ]; then tests="tests/integration"; else tests="$(JOB_TESTS)"; fi; \
	  $(MAKE) --no-print-directory integration PROFILE=$$profile TESTS="$$tests"; first=0; \
	done

test: lint unit matrix

bench: image
	$(BIN)/python bench/overhead.py --profile $(PROFILE)
	$(BIN)/python bench/rebuild.py --profile $(PROFILE)
	$(BIN)/python bench/campaign.py --profile $(PROFILE)

# On the device: pull the prebuilt image when a registry has it, else build it; the campaign
# runs the Jetson preflight before any job; then the report.
nano xavier: venv engine
	@if [ -n "$(REGISTRY)" ] && $(EDGECOMPRESS) pull $@ --registry "$(REGISTRY)"; then :; \
	  else $(EDGECOMPRESS) build $@; fi
	$(EDGECOMPRESS) campaign run paper --profile $@ $(CAMPAIGN_OPTS)
	$(EDGECOMPRESS) report
	@echo "results: $${EDGECOMPRESS_STORE:-results}/ (report in $${EDGECOMPRESS_STORE:-results}/report/)"

# The whole study on a workstation, in the x86 twin of PROFILE.
x86: image
	$(EDGECOMPRESS) campaign run paper --profile $(PROFILE) $(CAMPAIGN_OPTS)
	$(EDGECOMPRESS) report

pull: venv engine
	$(EDGECOMPRESS) pull $(PROFILE) $(if $(REGISTRY),--registry "$(REGISTRY)")

gc: venv
	$(EDGECOMPRESS) gc

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# --- arm64 emulation smoke test of the Xavier image -------------------------------------------
# make emulate-xavier: the Xavier job image's Python layers (docker/jetson/Dockerfile and the
# xavier pins) built for aarch64 on an x86-64 host under qemu-user-static, on a Debian bullseye
# arm64 base made with debootstrap (Python 3.9.2; the Xavier has 3.8) with PyPI's aarch64
# TensorFlow 2.12 (profile xavier-emulated), then probe in it, checked for machine aarch64 and
# TensorFlow 2.12. Each step is timed: about 10 minutes from nothing on 2 cores (base image
# 3.3 min, image build 6.4 min, probe 15 s), 25 s once base and image exist; see
# docs/emulation.md. Too slow for make test. Needs root for the emulation (apt-get install
# qemu-user-static binfmt-support, mount binfmt_misc, update-binfmts:
# docker/emulate/setup-binfmt.sh says what is missing) and debootstrap. Emulated programs run
# at nice EMULATE_NICE (docker/emulate/niced.sh), hence the generous probe deadline.
EMULATE_BASE ?= edgecompress/base:bullseye-arm64
EMULATE_STORE ?= results/emulate-xavier
EMULATE_TIMEOUT ?= 1800
export EMULATE_NICE ?= 19
NICED := docker/emulate/niced.sh

.PHONY: emulate-binfmt emulate-xavier

emulate-binfmt:
	TIMEFORMAT='emulate: arm64 emulation ready in %1R s'; time docker/emulate/setup-binfmt.sh

emulate-xavier: venv engine emulate-binfmt
	TIMEFORMAT='emulate-xavier: arm64 base image in %1R s'; \
	time $(NICED) docker/base/make-base-image.sh bullseye $(EMULATE_BASE) arm64
	TIMEFORMAT='emulate-xavier: image build in %1R s'; \
	time $(NICED) $(EDGECOMPRESS) build xavier-emulated --base-image $(EMULATE_BASE)
	TIMEFORMAT='emulate-xavier: probe in %1R s'; \
	time $(NICED) $(EDGECOMPRESS) run probe --profile xavier-emulated --force \
	  --timeout $(EMULATE_TIMEOUT) --store $(EMULATE_STORE)
	$(BIN)/python docker/emulate/check_probe.py $(EMULATE_STORE) --machine aarch64 --tensorflow 2.12
