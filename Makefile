# edgecompress: every entry point a user or CI needs. `make help` lists them: every target has
# its description after `##` on its own line (tests/unit/test_makefile.py checks none is left out).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EDGECOMPRESS := $(BIN)/edgecompress

# The job image to build and run (see launcher/device/profiles.py).
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

# The profiles' table answers for LOCAL_BASE (Debian suite and tag of each x86 twin's base):
# launcher/device/local_base.py, run with the plain $(PYTHON) (standard library only), so it works
# before the virtualenv exists.
PROFILES_TABLE := $(PYTHON) -m launcher.device.local_base
ifeq ($(LOCAL_BASE),1)
# EDGECOMPRESS_BASE_<PROFILE> ?= edgecompress/base:<suite> for every profile that has one (a
# value already in the environment wins).
local_base_env := $(shell $(PROFILES_TABLE) local-base-env)
ifeq ($(local_base_env),)
$(error LOCAL_BASE=1: no answer from `$(PROFILES_TABLE) local-base-env`: run it to see why)
endif
$(foreach pair,$(local_base_env),$(eval export $(subst =, ?= ,$(pair))))
endif
ENGINE_CHECK := docker info >/dev/null 2>&1 || { echo "error: no Docker engine answers: start it \
  (systemctl start docker, or dockerd &), or run .ci/run as root" >&2; exit 2; }

.PHONY: help venv engine base-image image demo lint unit integration test matrix bench applications \
        nano xavier x86 pull gc clean

help: ## this list
	@awk -F ':[^#]*## ' '/^[a-z][a-z0-9 -]*:[^=]*## / { gsub(/ +/, " | ", $$1); \
	  printf "  make %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "variables: PROFILE=$(PROFILE), TEST_PROFILES=\"$(TEST_PROFILES)\","
	@echo "  LOCAL_BASE=1 (Debian-made base images for the x86 twins), EXTRA_CA=bundle.pem,"
	@echo "  REGISTRY, FLEET (a Swarm manager: docs/fleet.md), TESTS, and for the study's"
	@echo "  subsets MODELS, METHODS, COPIES; TRAIN_PROFILE (training from another profile)"

# The mlflow extra too: `export mlflow` and its unit tests against a real MLflow server (some
# 25 s and 440 MB more than .[dev] alone).
venv: $(BIN)/.installed ## the virtualenv in .venv with the launcher, its dev tools and mlflow
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,mlflow]'
	touch $@

engine: ## check that a Docker engine answers
	@$(ENGINE_CHECK)

# LOCAL_BASE=1: PROFILE's suite and tag from the profiles' table (a Jetson profile has none: one
# line says why, before anything else runs).
base-image: ## LOCAL_BASE=1: make PROFILE's Debian base image (debootstrap, root)
ifeq ($(LOCAL_BASE),1)
	@base=$$($(PROFILES_TABLE) local-base $(PROFILE)) || exit 2; \
	  $(ENGINE_CHECK); \
	  echo "docker/base/make-base-image.sh $$base"; docker/base/make-base-image.sh $$base
else
	@$(ENGINE_CHECK)
endif

image: venv base-image ## build (or reuse) the job image of PROFILE
	$(EDGECOMPRESS) build $(PROFILE)

# The study's subsets: MODELS=MobileNetV3Small,DenseNet169 METHODS=fp16,int8,prune50 COPIES=1;
# TRAIN_PROFILE=x86-tf2.7: the training comes from that profile (a merged store, or its image
# here), docs/campaigns.md
CAMPAIGN_OPTS = $(if $(MODELS),--models $(MODELS)) $(if $(METHODS),--methods $(METHODS)) \
                $(if $(COPIES),--copies $(COPIES)) \
                $(if $(TRAIN_PROFILE),--train-profile $(TRAIN_PROFILE))
# Where prebuilt images live (HOST[:PORT][/NAMESPACE]); empty: build them here.
REGISTRY ?= $(EDGECOMPRESS_REGISTRY)
# FLEET=tcp://MANAGER:2375: nano, xavier and x86 run their campaign on a Docker Swarm's nodes
# labelled with the profile (docs/fleet.md), the image through REGISTRY (the fleet's registry).
FLEET ?= $(EDGECOMPRESS_FLEET)
FLEET_OPTS = $(if $(FLEET),--fleet "$(FLEET)" --registry "$(REGISTRY)")
FLEET_CHECK = if [ -n "$(FLEET)" ] && [ -z "$(REGISTRY)" ]; then \
  echo "error: FLEET needs REGISTRY, the registry the fleet's nodes pull from (docs/fleet.md)" >&2; \
  exit 2; fi

demo: image ## build the job image, run the quick campaign (no download) and its report
	$(EDGECOMPRESS) campaign run quick --profile $(PROFILE)
	$(EDGECOMPRESS) report

lint: venv ## ruff (jobs/ by jobs/ruff.toml), mypy, vermin (jobs/ on 3.6), schema check
	$(BIN)/ruff check launcher tests stand_ins bench jobs docker
	$(BIN)/mypy
	$(BIN)/vermin -q --no-tips --violations -t=3.6- jobs
	$(EDGECOMPRESS) schema --check

unit: venv ## the unit tests (no Docker, no network)
	$(BIN)/pytest tests/unit

# The integration tests in one twin: PROFILE picks it, TESTS narrows them.
TESTS ?= tests/integration
# What must hold under every TensorFlow version: the stack the image reports, the ImageNet
# branch of the six architectures (weights file, build, a training step, .h5), pruning and
# distillation (where tfmot and Keras differ most between versions), bad input, and a tfds
# dataset read offline from a prepared cache (tfds 4.5 and 4.9 read it). Training, quantization
# and benchmarks (STUDY_TESTS) run in the Nano's twin too, the stack the most constrained
# device runs (and the whole budget of `make test` allows no more). The
# launcher-side tests (registry, campaigns, measurement, the trust boundary) and the network
# test of the Jetson pins (test_jetson_pins.py) run once, in the first of TEST_PROFILES.
JOB_TESTS := tests/integration/test_jobs_in_containers.py::test_probe_reports_the_profiles_stack \
             tests/integration/test_pretrained.py::test_the_table_names_what_this_twins_keras_asks_for \
             tests/integration/test_pretrained.py::test_the_six_build_from_their_files_train_and_save_on_this_twin \
             tests/integration/test_study_compression.py tests/integration/test_study_bad_input.py \
             tests/integration/test_tfds_cache.py::test_a_prepared_dataset_is_read_with_no_network_and_a_read_only_cache
STUDY_TESTS := $(addprefix tests/integration/test_study_jobs.py::,test_train_learns_far_above_chance \
               test_quantized_sizes_against_the_float_tflite test_int8_model_runs_and_keeps_working \
               test_latency_follows_the_papers_rule \
               test_under_a_nanos_memory_limit_the_savedmodel_is_written_apart)
# Every keras.applications network of the stack: in `make test`, the Nano twin's 28 (the most
# constrained stack). The 71 of TensorFlow 2.12 and 2.21 take 8 minutes a twin (481 s on 2.12),
# beyond the budget of `make test`: run `make integration PROFILE=x86-tf2.12
# TESTS=tests/integration/test_applications.py` (and 2.21) after `make applications`.
APPLICATIONS_TEST := tests/integration/test_applications.py
# A user's Keras 3 .keras file: only TensorFlow >= 2.16 has Keras 3 beside tf_keras (x86-tf2.21).
KERAS3_TEST := tests/integration/test_keras3.py
NANO_TWIN := x86-tf2.7
integration: image ## the integration tests in PROFILE's image (TESTS narrows them)
	EDGECOMPRESS_TEST_PROFILE=$(PROFILE) $(BIN)/pytest $(TESTS)

matrix: venv engine ## all integration tests in the first of TEST_PROFILES, job tests in the rest
	@set -e; first=1; for profile in $(TEST_PROFILES); do \
	  if [ $$first = 1 ]; then tests="tests/integration --ignore=$(APPLICATIONS_TEST)"; \
	  elif [ $$profile = $(NANO_TWIN) ]; then tests="$(JOB_TESTS) $(STUDY_TESTS) $(APPLICATIONS_TEST)"; \
	  else tests="$(JOB_TESTS) $(KERAS3_TEST)"; fi; \
	  $(MAKE) --no-print-directory integration PROFILE=$$profile TESTS="$$tests"; first=0; \
	done

test: lint unit matrix ## lint, unit tests, and the job tests in each twin image

bench: image ## the benchmarks of docs/benchmarks.md
	$(BIN)/python -m bench.overhead --profile $(PROFILE)
	$(BIN)/python -m bench.rebuild --profile $(PROFILE)
	$(BIN)/python -m bench.campaign --profile $(PROFILE)

# On the device: pull the prebuilt image when a registry has it, else build it; fetch (the
# weights, and the dataset prepared by a job in that image); the campaign runs the Jetson
# preflight before any job; then the report.
nano xavier: venv engine ## the paper's study on the device (pull or build, preflight, report)
	@$(FLEET_CHECK)
	@if [ -n "$(REGISTRY)" ] && $(EDGECOMPRESS) pull $@ --registry "$(REGISTRY)"; then :; \
	  else $(EDGECOMPRESS) build $@; fi
	$(EDGECOMPRESS) fetch paper --profile $@ $(CAMPAIGN_OPTS)
	$(EDGECOMPRESS) campaign run paper --profile $@ $(FLEET_OPTS) $(CAMPAIGN_OPTS)
	$(EDGECOMPRESS) report
	@echo "results: $${EDGECOMPRESS_STORE:-results}/ (report in $${EDGECOMPRESS_STORE:-results}/report/)"

# The whole study on a workstation, in the x86 twin of PROFILE.
x86: image ## the paper's study on a workstation, in PROFILE's image
	@$(FLEET_CHECK)
	$(EDGECOMPRESS) fetch paper --profile $(PROFILE) $(CAMPAIGN_OPTS)
	$(EDGECOMPRESS) campaign run paper --profile $(PROFILE) $(FLEET_OPTS) $(CAMPAIGN_OPTS)
	$(EDGECOMPRESS) report

pull: venv engine ## pull PROFILE's prebuilt image from REGISTRY
	$(EDGECOMPRESS) pull $(PROFILE) $(if $(REGISTRY),--registry "$(REGISTRY)")

gc: venv ## remove job containers left behind by a killed launcher
	$(EDGECOMPRESS) gc

clean: ## remove .venv and the tool caches
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

emulate-binfmt: ## register qemu-aarch64 with binfmt_misc (root)
	TIMEFORMAT='emulate: arm64 emulation ready in %1R s'; time docker/emulate/setup-binfmt.sh

emulate-xavier: venv engine emulate-binfmt ## the Xavier stack under arm64 emulation (root, ~10 min)
	TIMEFORMAT='emulate-xavier: arm64 base image in %1R s'; \
	time $(NICED) docker/base/make-base-image.sh bullseye $(EMULATE_BASE) arm64
	TIMEFORMAT='emulate-xavier: image build in %1R s'; \
	time $(NICED) $(EDGECOMPRESS) build xavier-emulated --base-image $(EMULATE_BASE)
	TIMEFORMAT='emulate-xavier: probe in %1R s'; \
	time $(NICED) $(EDGECOMPRESS) run probe --profile xavier-emulated --force \
	  --timeout $(EMULATE_TIMEOUT) --store $(EMULATE_STORE)
	$(BIN)/python docker/emulate/check_probe.py $(EMULATE_STORE) --machine aarch64 --tensorflow 2.12

applications: venv ## rewrite launcher/applications_table.json from each twin's Keras (~10 min a twin)
	for profile in x86-tf2.7 x86-tf2.12 x86-tf2.21; do $(MAKE) --no-print-directory base-image PROFILE=$$profile || exit 1; done
	$(BIN)/python docker/scan_applications.py
