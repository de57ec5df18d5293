# CloudDispatch: build, demo, test and install.
#   make demo      build, show the drivers, certify loopback, run a queue session on a real daemon
#   make test      every test suite (Swift, schema cross-check, C driver built with plain cc)
#   make install   PREFIX=/usr/local by default; DESTDIR honoured
#   make runner    the worker-side runner, fully static (needs nothing on a VM but the kernel)
#   make bench     every benchmark on a release build, then one table of figures and targets
PREFIX  ?= /usr/local
SWIFT   ?= swift
OUT     := $(CURDIR)/out
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := curl libcurl4-openssl-dev libssh2-1-dev libjansson-dev libsqlite3-dev openssh-server openssh-client postgresql \
                pkg-config python3 python3-pip
SCHEMA  := Sources/DriverHost/Schemas/driver-abi.schema.json
SCHEMA_EXECUTOR := Sources/DriverHost/Schemas/executor-abi.schema.json
LOOPBACK_SOURCES := $(wildcard Plugins/Loopback/*.c)
PG_PORT ?= auto
## The busybox image the podman tests run (support/podman.sh imports it; no registry).
PODMAN_IMAGE ?= localhost/cloud-dispatch-test:1

.PHONY: deps podman-image build release bench runner runner-test soak-test ec2-test gce-test azure-test demo test swift-test schema-test openapi-test api-fuzz-test c-driver-test examples-test install install-abi clean \
        asan-test c-template-test swift-template-test local-exec-test slurm-test executor-kit-test executor-serve-test

## Debian packages and Python modules the build and tests need (does nothing when present).
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@python3 -c 'import jsonschema, openapi_spec_validator, moto.server' 2>/dev/null || python3 -m pip install -q jsonschema openapi-spec-validator 'moto[ec2,server]'
	@command -v schemathesis >/dev/null || python3 -m pip install -q 'schemathesis>=4.32,<5'
	@python3 -c 'import googleapiclient.discovery, google.auth, cryptography' 2>/dev/null || \
	  python3 -m pip install -q 'google-api-python-client==2.202.0' 'google-auth==2.63.0' cryptography
	@python3 -c 'import azure.mgmt.compute, azure.mgmt.network, azure.identity' 2>/dev/null || \
	  python3 -m pip install -q 'azure-mgmt-compute==39.0.0' 'azure-mgmt-network==33.1.0' 'azure-identity==1.27.0'
	@support/podman.sh setup

## Real podman for the runner's contract tests and a dispatch end to end: a local busybox image,
## checked once (exit code, -e, -w) so a podman that cannot run fails here, not in a test.
podman-image:
	@support/podman.sh image $(PODMAN_IMAGE) >/dev/null
	@support/podman.sh check $(PODMAN_IMAGE)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

BIN = $(shell $(SWIFT) build --show-bin-path)

## Every benchmark on the release build (support/bench.sh: a throwaway PostgreSQL for the queue on
## PostgreSQL, stopped after), then one table: figure, target, pass/miss (docs/performance.md).
## Logs and the table land in out/bench/.
bench: release
	support/bench.sh $$($(SWIFT) build -c release --show-bin-path) $(OUT)

## The runner, linked fully static (Glibc only, no Foundation), in its own scratch path so the
## dynamic products of the main build are untouched. Deployed to workers as is.
RUNNER_STATIC := .build-static/release/cloud-dispatch-runner
runner:
	$(SWIFT) build -c release --product cloud-dispatch-runner --scratch-path .build-static -Xswiftc -static-executable
	@ldd $(RUNNER_STATIC) 2>&1 | grep -q 'not a dynamic executable' || { echo "$(RUNNER_STATIC) is not static"; exit 1; }
	@# Symbols only serve a debugger; without them the binary is a third smaller to deploy.
	@if command -v strip >/dev/null; then strip $(RUNNER_STATIC); fi
	@echo "$(RUNNER_STATIC): static, $$(stat -c %s $(RUNNER_STATIC)) bytes"

## EXECUTOR=slurm (or local): the same kind of workload on an executor backend instead of VMs.
EXECUTOR ?=
demo: build runner
	@if [ -n "$(EXECUTOR)" ]; then support/demo-executor.sh $(BIN) $(OUT) $(EXECUTOR); else support/demo.sh $(BIN) $(OUT); fi

test: deps
	$(SWIFT) build
	$(MAKE) --no-print-directory podman-image local-exec-test slurm-test executor-kit-test executor-serve-test swift-test runner-test schema-test openapi-test api-fuzz-test c-driver-test asan-test c-template-test swift-template-test ec2-test gce-test azure-test soak-test examples-test demo-test

## 10,000 containers on the faulty sim cloud with dispatcher restarts (virtual clock): nothing
## lost, nothing run twice at once, no tagged instance left, a reason on every Cancelled.
soak-test:
	$(BIN)/cloud-dispatch bench soak --count 10000 --max-instances 300

## Every example configuration, and each "#alt" alternative it offers, passes check-config and
## serves (started with its driver, /_health ok, stopped cleanly).
examples-test: runner
	@support/test-examples.sh $(BIN) $(OUT)

## The README's first command, so it stays true: fails if a container does not end or an instance is left.
demo-test: runner
	@support/demo.sh $(BIN) $(OUT)

## The runner's contract tests again, on the static binary that is deployed to workers.
runner-test: runner podman-image
	CLOUD_DISPATCH_TEST_PODMAN_IMAGE=$(PODMAN_IMAGE) CLOUD_DISPATCH_BUILD_DIR=$(CURDIR)/.build-static/release $(SWIFT) test --filter RunnerTests

## The Swift suites. The store suite runs against a throwaway PostgreSQL cluster on
## 127.0.0.1 (unless CLOUD_DISPATCH_TEST_POSTGRES already names a database server); the podman
## suites (runner contract, a dispatch end to end) run PODMAN_IMAGE.
swift-test: export CLOUD_DISPATCH_TEST_PODMAN_IMAGE = $(PODMAN_IMAGE)
swift-test: podman-image
	@if [ -n "$$CLOUD_DISPATCH_TEST_POSTGRES" ]; then $(SWIFT) test; exit $$?; fi; \
	pg=$$(mktemp -d /tmp/cloud-dispatch-pg-XXXXXX); chmod 755 $$pg; \
	trap 'support/test-postgres.sh stop '$$pg/cluster'; rm -rf '$$pg EXIT; \
	url=$$(support/test-postgres.sh start $$pg/cluster $(PG_PORT)) || exit 1; \
	echo "PostgreSQL for the tests: $$url"; \
	CLOUD_DISPATCH_TEST_POSTGRES="$$url" $(SWIFT) test

## Every payload of a conformance run, checked by python-jsonschema (independent of the host).
schema-test:
	@mkdir -p $(OUT)/schema-test && rm -f $(OUT)/schema-test/*.jsonl
	@printf '{"state_dir": "%s/schema-test/loopback"}\n' "$(OUT)" > $(OUT)/schema-test/loopback.json
	@echo '{"seed": 1}' > $(OUT)/schema-test/sim.json
	CLOUD_DISPATCH_DRIVER_TRACE=$(OUT)/schema-test/loopback.jsonl \
	  $(BIN)/cloud-dispatch driver-test --driver loopback --config $(OUT)/schema-test/loopback.json >/dev/null
	CLOUD_DISPATCH_DRIVER_TRACE=$(OUT)/schema-test/sim.jsonl \
	  $(BIN)/cloud-dispatch driver-test --driver sim --config $(OUT)/schema-test/sim.json >/dev/null
	python3 Tests/schema/validate_trace.py $(SCHEMA) $(OUT)/schema-test/loopback.jsonl $(OUT)/schema-test/sim.jsonl
	@# The executor schema, on a run of the executor kit against the in-memory fixture backend.
	@mkdir -p $(OUT)/schema-test/plugins && chmod go-w $(OUT)/schema-test/plugins
	@install -m 755 $(BIN)/libfixture_executor.so $(OUT)/schema-test/plugins/libcdx_memexec.so
	@echo '{"start_ms": 20}' > $(OUT)/schema-test/memexec.json
	CLOUD_DISPATCH_DRIVER_TRACE=$(OUT)/schema-test/memexec.jsonl \
	  $(BIN)/cloud-dispatch executor-test --executor memexec --config $(OUT)/schema-test/memexec.json \
	  --plugins $(OUT)/schema-test/plugins >/dev/null
	python3 Tests/schema/validate_trace.py $(SCHEMA_EXECUTOR) $(OUT)/schema-test/memexec.jsonl

## The API document is valid OpenAPI 3.1 (openapi-spec-validator, independent of the server).
openapi-test:
	python3 -c 'import json, openapi_spec_validator as v; v.validate(json.load(open("Sources/API/openapi.json"))); print("openapi.json: 1 passed, 0 failed")'

## The API against its document by schemathesis (independent of the server): a real daemon on
## the sim driver, every check, coverage + fuzzing + stateful phases, 2 minutes (API_FUZZ_SECONDS).
api-fuzz-test:
	support/api-fuzz.sh $(BIN) $(OUT)

## The loopback driver built with plain cc against the installed header and pkg-config file
## alone, then certified by the kit: proof a driver needs nothing of the host's build.
c-driver-test:
	@rm -rf $(OUT)/c-driver && mkdir -p $(OUT)/c-driver/plugins && chmod 755 $(OUT)/c-driver/plugins
	$(MAKE) --no-print-directory install-abi PREFIX=$(OUT)/c-driver/prefix DESTDIR=
	PKG_CONFIG_PATH=$(OUT)/c-driver/prefix/lib/pkgconfig sh -c 'cc -std=c11 -shared -fPIC -O2 -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter \
	  $$(pkg-config --cflags cloud-dispatch-driver jansson) -I Plugins/Loopback/include $(LOOPBACK_SOURCES) \
	  -o $(OUT)/c-driver/plugins/libcdd_loopback.so $$(pkg-config --libs jansson) -lpthread -Wl,--no-undefined'
	@printf '{"state_dir": "%s/c-driver/state"}\n' "$(OUT)" > $(OUT)/c-driver/loopback.json
	CLOUD_DISPATCH_DRIVER_TRACE=$(OUT)/c-driver/trace.jsonl \
	  $(BIN)/cloud-dispatch driver-test --plugins $(OUT)/c-driver/plugins --driver loopback --config $(OUT)/c-driver/loopback.json
	python3 Tests/schema/validate_trace.py $(SCHEMA) $(OUT)/c-driver/trace.jsonl

## Every C target once under AddressSanitizer + UndefinedBehaviorSanitizer (any report fails):
## the loopback driver certified by the kit, the test fixtures loaded by `drivers`, and the
## harnesses of Tests/CHarness. The host is not instrumented: libasan is preloaded into it.
ASAN_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
               -Wall -Wextra -Wno-unused-parameter -I Sources/PluginABI/include
ASAN_RUN    := env LD_PRELOAD=$$(cc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 \
               UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
asan-test:
	@rm -rf $(OUT)/asan && mkdir -p $(OUT)/asan/plugins $(OUT)/asan/fixtures $(OUT)/asan/state && chmod 755 $(OUT)/asan/plugins $(OUT)/asan/fixtures
	cc $(ASAN_CFLAGS) -shared -fPIC -fvisibility=hidden -I Plugins/Loopback/include $(LOOPBACK_SOURCES) \
	  -o $(OUT)/asan/plugins/libcdd_loopback.so -ljansson -lpthread
	@for d in Tests/Fixtures/*/; do [ -f $$d/fixture.c ] || continue; n=$$(basename $$d | tr A-Z a-z); \
	  cc $(ASAN_CFLAGS) -Wno-unused-function -shared -fPIC -fvisibility=hidden -I $$d/include $$d/fixture.c -o $(OUT)/asan/fixtures/libcdd_$$n.so -ljansson || exit 1; done
	for h in Tests/CHarness/*.c; do cc $(ASAN_CFLAGS) $$h -ldl -o $(OUT)/asan/$$(basename $$h .c) || exit 1; done
	$(OUT)/asan/loopback_error_messages $(OUT)/asan/plugins/libcdd_loopback.so $(OUT)/asan/state
	$(OUT)/asan/loopback_session $(OUT)/asan/plugins/libcdd_loopback.so $(OUT)/asan/state list
	$(ASAN_RUN) $(BIN)/cloud-dispatch drivers --plugins $(OUT)/asan/fixtures >/dev/null
	@printf '{"state_dir": "%s/asan/state"}\n' "$(OUT)" > $(OUT)/asan/loopback.json
	$(ASAN_RUN) $(BIN)/cloud-dispatch driver-test --plugins $(OUT)/asan/plugins --driver loopback --config $(OUT)/asan/loopback.json

## The C template of docs/driver-abi.md (examples/driver-c/mydriver.c): the docs' code is the
## file's own, it builds with -Werror under ASan + UBSan, exports two symbols, passes the kit.
c-template-test:
	@rm -rf $(OUT)/c-template && mkdir -p $(OUT)/c-template/plugins && chmod 755 $(OUT)/c-template/plugins
	python3 -c 'import re,sys; doc=open("docs/driver-abi.md").read(); c=open("examples/driver-c/mydriver.c").read(); \
	  block=re.search(r"```c\n(EXPORT cdd_status cdd_negotiate.*?)```", doc, re.S).group(1); \
	  sys.exit(0 if block in c else "docs/driver-abi.md: the C entry points differ from examples/driver-c/mydriver.c")'
	cc $(ASAN_CFLAGS) -std=c11 -Werror -shared -fPIC -fvisibility=hidden examples/driver-c/mydriver.c \
	  -o $(OUT)/c-template/plugins/libcdd_mydriver.so -ljansson -lpthread -Wl,--no-undefined
	@test "$$(nm -D --defined-only $(OUT)/c-template/plugins/libcdd_mydriver.so | awk '$$2 ~ /^[A-Z]$$/ {print $$3}' | sort | tr '\n' ' ')" = "cdd_negotiate cdd_open " \
	  || { echo "libcdd_mydriver.so exports more than its two entry points"; exit 1; }
	@echo '{"region": "test"}' > $(OUT)/c-template/mydriver.json
	$(ASAN_RUN) $(BIN)/cloud-dispatch driver-test --plugins $(OUT)/c-template/plugins --driver mydriver --config $(OUT)/c-template/mydriver.json

## The Swift template (examples/driver-swift): a package of its own that takes the PluginABI
## product of this one, builds libcdd_memory.so, exports two symbols and passes the kit.
swift-template-test:
	@rm -rf $(OUT)/swift-template && mkdir -p $(OUT)/swift-template/plugins && chmod 755 $(OUT)/swift-template/plugins
	CLOUD_DISPATCH_PACKAGE=$(CURDIR) $(SWIFT) build --package-path examples/driver-swift --scratch-path $(OUT)/swift-template/build
	install -m 755 $(OUT)/swift-template/build/debug/libcdd_memory.so $(OUT)/swift-template/plugins/
	@test "$$(nm -D --defined-only $(OUT)/swift-template/plugins/libcdd_memory.so | awk '$$2 ~ /^[A-Z]$$/ {print $$3}' | sort | tr '\n' ' ')" = "cdd_negotiate cdd_open " \
	  || { echo "libcdd_memory.so exports more than its two entry points"; exit 1; }
	@echo '{}' > $(OUT)/swift-template/memory.json
	$(BIN)/cloud-dispatch driver-test --plugins $(OUT)/swift-template/plugins --driver memory --config $(OUT)/swift-template/memory.json

## The local executor backend (libcdx_local.so) against the real runner: Tests/local/test_local.py
## loads it with ctypes (exit codes, capacity, idempotency, cancel, kills behind its back, 8 threads,
## a second process, env/cwd, an image through podman), once as built and once under ASan + UBSan
## with leak detection (reports of the shells the jobs run are not ours: only Plugins/Local counts).
local-exec-test: podman-image
	$(SWIFT) build --product cloud-dispatch-runner
	$(SWIFT) build --product cdx_local
	@test "$$(nm -D --defined-only $(BIN)/libcdx_local.so | awk '$$2 ~ /^[A-Z]$$/ {print $$3}' | sort | tr '\n' ' ')" = "cdx_negotiate cdx_open " \
	  || { echo "libcdx_local.so exports more than its two entry points"; exit 1; }
	CLOUD_DISPATCH_TEST_PODMAN_IMAGE=$(PODMAN_IMAGE) python3 Tests/local/test_local.py $(BIN)/libcdx_local.so $(BIN)/cloud-dispatch-runner
	@rm -rf $(OUT)/local-exec && mkdir -p $(OUT)/local-exec
	cc $(ASAN_CFLAGS) -Werror -shared -fPIC -fvisibility=hidden -I Plugins/Local/include $(wildcard Plugins/Local/*.c) \
	  -o $(OUT)/local-exec/libcdx_local.so -ljansson -Wl,--no-undefined
	env PYTHONMALLOC=malloc LD_PRELOAD=$$(cc -print-file-name=libasan.so) UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:log_path=$(OUT)/local-exec/asan LSAN_OPTIONS=exitcode=0 \
	  python3 Tests/local/test_local.py $(OUT)/local-exec/libcdx_local.so $(BIN)/cloud-dispatch-runner
	@reports=$$(grep -l "Plugins/Local" $(OUT)/local-exec/asan.* 2>/dev/null); \
	if [ -n "$$reports" ]; then cat $$reports; echo "ASan/LSan reports in the local backend (above)"; exit 1; fi

## The conformance kit (`executor-test`) on both backends, every payload checked by python-jsonschema;
## slurm on a throwaway cluster, stopped on exit.
KIT_OUT = $(OUT)/executor-kit
executor-kit-test:
	@rm -rf $(KIT_OUT) && mkdir -p $(KIT_OUT)/plugins && chmod 755 $(KIT_OUT)/plugins
	$(SWIFT) build --product cloud-dispatch
	$(SWIFT) build --product cloud-dispatch-runner
	$(SWIFT) build --product cdx_local
	$(SWIFT) build --product cdx_slurm
	install -m 755 $(BIN)/libcdx_local.so $(BIN)/libcdx_slurm.so $(KIT_OUT)/plugins/
	printf '{"runner": "%s", "state_dir": "%s/local"}\n' "$(BIN)/cloud-dispatch-runner" "$(KIT_OUT)" >$(KIT_OUT)/local.json
	CLOUD_DISPATCH_DRIVER_TRACE=$(KIT_OUT)/local.jsonl $(BIN)/cloud-dispatch executor-test --plugins $(KIT_OUT)/plugins \
	  --executor local --config $(KIT_OUT)/local.json
	@trap 'support/test-slurm.sh stop $(KIT_OUT)/cluster' EXIT; \
	support/test-slurm.sh start $(KIT_OUT)/cluster >/dev/null || exit 1; \
	printf '{"slurm_conf": "%s/cluster/slurm.conf", "work_dir": "%s/slurm"}\n' "$(KIT_OUT)" "$(KIT_OUT)" >$(KIT_OUT)/slurm.json; \
	set -x; CLOUD_DISPATCH_DRIVER_TRACE=$(KIT_OUT)/slurm.jsonl $(BIN)/cloud-dispatch executor-test --plugins $(KIT_OUT)/plugins \
	  --executor slurm --config $(KIT_OUT)/slurm.json
	python3 Tests/schema/validate_trace.py $(SCHEMA_EXECUTOR) $(KIT_OUT)/local.jsonl $(KIT_OUT)/slurm.jsonl

## `serve` on each executor backend end to end (support/test-executor-serve.sh): 50 containers
## with failures, a timeout, a cancel, one too big and one killed behind the daemon's back, and
## the daemon killed with SIGKILL mid-run; slurm on a throwaway cluster.
executor-serve-test:
	$(SWIFT) build --product cloud-dispatch
	$(SWIFT) build --product cloud-dispatch-runner
	$(SWIFT) build --product cdx_local
	$(SWIFT) build --product cdx_slurm
	support/test-executor-serve.sh $(BIN) $(OUT) local
	support/test-executor-serve.sh $(BIN) $(OUT) slurm

## The EC2 driver against a real moto server (support/moto.sh, stopped on exit): the kit with
## --live and its trace checked by python-jsonschema, then the moto scenarios (signing checked
## by moto, paging, tag filters, spot, count > 1, faults through Tests/ec2/fault_proxy.py).
ec2-test:
	@rm -rf $(OUT)/ec2-test && mkdir -p $(OUT)/ec2-test/plugins && chmod 755 $(OUT)/ec2-test/plugins
	$(SWIFT) build --product cdd_ec2
	$(SWIFT) build --product cloud-dispatch
	install -m 755 $(BIN)/libcdd_ec2.so $(OUT)/ec2-test/plugins/
	@trap 'support/moto.sh stop $(OUT)/ec2-test/moto' EXIT; \
	url=$$(support/moto.sh start $(OUT)/ec2-test/moto auto) || exit 1; echo "moto for the tests: $$url"; \
	printf '{"region": "us-east-1", "endpoint": "%s", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "moto", "image": "ami-760aaa0f", "instance_types": ["t3.micro", "m5.large"], "use_instance_role": false}\n' "$$url" >$(OUT)/ec2-test/ec2.json; \
	set -ex; \
	CLOUD_DISPATCH_DRIVER_TRACE=$(OUT)/ec2-test/trace.jsonl $(BIN)/cloud-dispatch driver-test --plugins $(OUT)/ec2-test/plugins \
	  --driver ec2 --config $(OUT)/ec2-test/ec2.json --live --instance-type t3.micro --settle 10; \
	python3 Tests/schema/validate_trace.py $(SCHEMA) $(OUT)/ec2-test/trace.jsonl; \
	CLOUD_DISPATCH_TEST_MOTO=$$url $(SWIFT) test --filter MotoScenarioTests

## The GCE driver against the fake Compute Engine (Tests/gce/fake_gce.py, which checks every
## request and answer against Google's discovery document compute.v1.json): Google's own
## client and google-auth judge the fake first, then the kit runs with --live, its trace is
## checked by python-jsonschema and the fake must have recorded no breach of the document.
## The scenarios (Tests/GCECoreTests) run in swift-test.
GCE_OUT = $(OUT)/gce-test
gce-test:
	@rm -rf $(GCE_OUT) && mkdir -p $(GCE_OUT)/plugins && chmod 755 $(GCE_OUT)/plugins
	python3 Tests/gce/contract_test.py
	$(SWIFT) build --product cdd_gce
	$(SWIFT) build --product cloud-dispatch
	install -m 755 $(BIN)/libcdd_gce.so $(GCE_OUT)/plugins/
	python3 Tests/gce/keys.py $(GCE_OUT)/key.json http://127.0.0.1:1/token
	@python3 Tests/gce/fake_gce.py --no-stdin --service-account $(GCE_OUT)/key.json >$(GCE_OUT)/fake.url 2>$(GCE_OUT)/fake.log & pid=$$!; \
	trap 'kill $$pid 2>/dev/null' EXIT; \
	for _ in $$(seq 1 3000); do [ -s $(GCE_OUT)/fake.url ] && break; kill -0 $$pid || break; sleep 0.1; done; \
	url=$$(head -1 $(GCE_OUT)/fake.url); [ -n "$$url" ] || { echo "the fake Compute Engine did not start:"; cat $(GCE_OUT)/fake.log; exit 1; }; \
	echo "fake Compute Engine for the tests: $$url"; \
	printf '{"project": "p1", "zones": ["us-central1-a", "us-central1-b"], "api_root": "%s/compute/v1/", "credentials_file": "%s", "token_uri": "%s/token", "image": "projects/debian-cloud/global/images/family/debian-12", "instance_types": ["e2-micro", "e2-small", "n2-standard-2"], "prices": {"e2-micro": 0.0084, "e2-small": 0.0168, "n2-standard-2": 0.0971}, "spot_prices": {"e2-micro": 0.0025}}\n' \
	  "$$url" "$(GCE_OUT)/key.json" "$$url" >$(GCE_OUT)/gce.json; \
	set -ex; \
	CLOUD_DISPATCH_DRIVER_TRACE=$(GCE_OUT)/trace.jsonl $(BIN)/cloud-dispatch driver-test --plugins $(GCE_OUT)/plugins \
	  --driver gce --config $(GCE_OUT)/gce.json --live --instance-type e2-micro --settle 10; \
	python3 Tests/schema/validate_trace.py $(SCHEMA) $(GCE_OUT)/trace.jsonl; \
	curl -fsS $$url/_fake/stats | python3 -c 'import json, sys; s = json.load(sys.stdin); print("fake: %d calls, %d breaches of the discovery document, %d instances left" % (sum(s["calls"].values()), len(s["problems"]), len(s["instances"]))); [print(" ", p) for p in s["problems"]]; sys.exit(1 if s["problems"] or s["instances"] else 0)'
## The Azure driver against the fake ARM server (Tests/azure/fake_arm.py: routes, api-versions and
## bodies checked against azure-mgmt-compute/network's models): Microsoft's SDK and azure-identity
## judge the fake (contract_test.py); the kit certifies the driver with --live and its trace is
## checked by python-jsonschema; then the scenarios (FakeARMScenarioTests) against a fake of their own.
azure-test:
	@rm -rf $(OUT)/azure-test && mkdir -p $(OUT)/azure-test/plugins && chmod 755 $(OUT)/azure-test/plugins
	python3 Tests/azure/contract_test.py
	$(SWIFT) build --product cdd_azure
	$(SWIFT) build --product cloud-dispatch
	install -m 755 $(BIN)/libcdd_azure.so $(OUT)/azure-test/plugins/
	@d=$(OUT)/azure-test/fake; mkdir -p $$d; \
	python3 Tests/azure/fake_arm.py --dir $$d --until-killed >$$d/urls </dev/null & pid=$$!; \
	trap 'kill '$$pid EXIT; \
	for _ in $$(seq 1 3000); do [ "$$(wc -l <$$d/urls)" -ge 2 ] && break; kill -0 $$pid || exit 1; sleep 0.1; done; \
	[ "$$(wc -l <$$d/urls)" -ge 2 ] || { echo "the fake ARM did not start within 5 minutes"; exit 1; }; \
	arm=$$(sed -n 1p $$d/urls); echo "fake ARM for the tests: $$arm"; \
	printf '{"subscription_id": "00000000-0000-0000-0000-0000000000cc", "resource_group": "rg-kit", "location": "westeurope", "subnet_id": "/subscriptions/00000000-0000-0000-0000-0000000000cc/resourceGroups/rg-kit/providers/Microsoft.Network/virtualNetworks/vnet/subnets/workers", "tenant_id": "tenant-1", "client_id": "client-1", "client_secret": "fake-secret", "authority_host": "%s", "arm_endpoint": "%s", "ca_bundle": "%s/ca.pem", "image": "Debian:debian-12:12-gen2:latest", "poll_interval_ms": 20, "prices": {"Standard_B1s": 0.0104}}\n' "$$arm" "$$arm" "$$d" >$(OUT)/azure-test/azure.json; \
	set -ex; \
	CLOUD_DISPATCH_DRIVER_TRACE=$(OUT)/azure-test/trace.jsonl $(BIN)/cloud-dispatch driver-test --plugins $(OUT)/azure-test/plugins \
	  --driver azure --config $(OUT)/azure-test/azure.json --live --instance-type Standard_B1s --settle 10; \
	python3 Tests/schema/validate_trace.py $(SCHEMA) $(OUT)/azure-test/trace.jsonl; \
	test "$$(curl -fsS --cacert $$d/ca.pem $$arm/_fake/violations)" = "[]"; \
	$(SWIFT) test --filter AzureCoreTests

## What a driver or executor-backend author needs: headers, pkg-config file, schemas, references.
install-abi:
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/cloud-dispatch $(DESTDIR)$(PREFIX)/share/doc/cloud-dispatch
	install -m 644 Sources/PluginABI/include/cloud_dispatch_driver.h Sources/PluginABI/include/cloud_dispatch_executor.h \
	  $(DESTDIR)$(PREFIX)/include/
	sed 's|@PREFIX@|$(PREFIX)|' support/cloud-dispatch-driver.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/cloud-dispatch-driver.pc
	install -m 644 $(SCHEMA) $(SCHEMA_EXECUTOR) $(DESTDIR)$(PREFIX)/share/cloud-dispatch/
	install -m 644 docs/driver-abi.md docs/executor-abi.md $(DESTDIR)$(PREFIX)/share/doc/cloud-dispatch/

install: release runner install-abi
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/cloud-dispatch/drivers
	install -m 755 $$($(SWIFT) build -c release --show-bin-path)/cloud-dispatch $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(RUNNER_STATIC) $(DESTDIR)$(PREFIX)/bin/
	for d in cdd_loopback cdd_sim cdd_ec2 cdd_gce cdd_azure cdx_local cdx_slurm; do \
	  install -m 755 $$($(SWIFT) build -c release --show-bin-path)/lib$$d.so $(DESTDIR)$(PREFIX)/lib/cloud-dispatch/drivers/; done
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/doc/cloud-dispatch
	sed 's|/usr/local|$(PREFIX)|g' support/cloud-dispatch.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/cloud-dispatch.service
	install -m 644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/cloud-dispatch/

clean:
	rm -rf .build .build-static out

## The slurm executor backend, built with plain cc, against a real throwaway Slurm cluster
## (support/test-slurm.sh installs Slurm's Debian packages when missing; needs root), with
## podman for the image checks (the podman-image test image). The
## cluster is stopped whatever the outcome, and nothing of it may be left running. Tests/slurm/leaks.c
## runs every operation once under ASan+UBSan with leak detection first.
SLURM_SOURCES := $(wildcard Plugins/Slurm/*.c)
slurm-test: export CLOUD_DISPATCH_TEST_PODMAN_IMAGE = $(PODMAN_IMAGE)
slurm-test: podman-image
	@rm -rf $(OUT)/slurm && mkdir -p $(OUT)/slurm/work
	cc -std=gnu11 -shared -fPIC -O2 -g -fvisibility=hidden -Wall -Wextra -Werror -I Sources/PluginABI/include -I Plugins/Slurm/include \
	  $(SLURM_SOURCES) -o $(OUT)/slurm/libcdx_slurm.so -ljansson -lpthread -Wl,--no-undefined \
	  -Wl,--version-script=support/cdx-executor.exports
	test "$$(nm -D --defined-only $(OUT)/slurm/libcdx_slurm.so | awk '{print $$3}' | sort | tr '\n' ' ')" = "cdx_negotiate cdx_open "
	cc $(ASAN_CFLAGS) -Werror -I Plugins/Slurm/include Tests/slurm/leaks.c $(SLURM_SOURCES) -o $(OUT)/slurm/leaks -ljansson -lpthread
	support/test-slurm.sh start $(OUT)/slurm/cluster
	support/test-slurm.sh start $(OUT)/slurm/cluster2 || { support/test-slurm.sh stop $(OUT)/slurm/cluster; exit 1; }
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 $(OUT)/slurm/leaks $(OUT)/slurm/cluster/slurm.conf $(OUT)/slurm/work/leaks && \
	  python3 Tests/slurm/test_slurm.py $(OUT)/slurm/libcdx_slurm.so $(OUT)/slurm/cluster/slurm.conf $(OUT)/slurm/work && \
	  SLURM_CONF=$(OUT)/slurm/cluster2/slurm.conf timeout 60 sbatch --wait --quiet -o /dev/null --wrap true && echo "ok   a second cluster ran beside"; \
	  rc=$$?; for c in cluster cluster2; do support/test-slurm.sh stop $(OUT)/slurm/$$c || rc=1; done; \
	  left=$$(pgrep -f '[-][fS] $(OUT)/slurm/cluster' || true); [ -z "$$left" ] || { echo "left running: $$left"; rc=1; }; exit $$rc
