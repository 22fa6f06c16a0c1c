# The few commands everyone runs. See README.md.
SWIFT      ?= swift
DATA_DIR   ?= ./data
LISTEN     ?= 127.0.0.1:7420

.PHONY: deps build serve test generate check-generated client-sample bench fuzz fuzz-smoke demo cluster-demo clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

## Installs what is missing, builds, and starts the server on $(LISTEN) with data in $(DATA_DIR).
serve: deps
	$(SWIFT) build --product mailsync
	$(SWIFT) run mailsync serve --listen $(LISTEN) --data-dir $(DATA_DIR)

## Installs what is missing, builds, and runs every test: two runs (see scripts/test.sh), the unit,
## protocol and storage suites first, then the suites that start real mail servers and processes.
test: deps
	$(SWIFT) build --build-tests
	SWIFT=$(SWIFT) scripts/test.sh

## Regenerates the Swift client (Clients/Swift/Sources/MailSyncClient), the server stubs and the
## Python client's module (Clients/Python/mailsync, and the test schema's for the Python codec
## tests) from Schema/.
generate:
	$(SWIFT) run mailsync-gen Schema --client-out Clients/Swift/Sources/MailSyncClient --server-out Sources/MailSyncService/Generated --client-module MailSyncClient --namespace MailSync --authorization-doc docs/authorization.md --python-out Clients/Python/mailsync
	$(SWIFT) run mailsync-gen Tests/TestSupport/Schema --client-out Tests/TestSupport/Generated --server-out Tests/TestSupport/Generated --python-out Clients/Python/tests/generated

## Fails when the committed generated code differs from a fresh run (also checked by `make test`).
check-generated:
	$(SWIFT) run mailsync-gen Schema --client-out Clients/Swift/Sources/MailSyncClient --server-out Sources/MailSyncService/Generated --client-module MailSyncClient --namespace MailSync --authorization-doc docs/authorization.md --python-out Clients/Python/mailsync --check
	$(SWIFT) run mailsync-gen Tests/TestSupport/Schema --client-out Tests/TestSupport/Generated --server-out Tests/TestSupport/Generated --python-out Clients/Python/tests/generated --check

## Builds the Swift client's sample app next to its own SwiftNIO, with no server package (also run
## by `make test`; its own .build in Clients/Swift/Examples/SampleApp).
client-sample:
	SWIFT=$(SWIFT) scripts/check-client-sample.sh

## Runs the benchmarks (release build, nested package in Benchmarks/).
## The nested package caches the root package's file list in its build plan; removing the plan
## makes it see files added, renamed or removed in the root since the last run (nothing is rebuilt
## that did not change).
bench: deps
	rm -f Benchmarks/.build/release.yaml
	cd Benchmarks && $(SWIFT) run -c release MailSyncBenchmarks
	cd Benchmarks && $(SWIFT) run -c release SyncBenchmarks
	cd Benchmarks && $(SWIFT) run -c release SyncBenchmarks --idle-watchers 200
	cd Benchmarks && $(SWIFT) run -c release BackupBenchmarks
	cd Benchmarks && $(SWIFT) run -c release ReplicationBenchmarks --mb 64
	cd Benchmarks && $(SWIFT) run -c release StorageBenchmarks
	cd Benchmarks && $(SWIFT) run -c release TransportBenchmarks churn
	$(SWIFT) build -c release --product mailsync
	cd Benchmarks && $(SWIFT) run -c release FleetBenchmarks

## The transport soak: 1,000 connections × mixed calls for SOAK_SECONDS (default 600) on loopback;
## prints calls/s, errors (must be 0), p99 and RSS every 10 s (docs/benchmarks.md).
SOAK_SECONDS ?= 600
.PHONY: soak
soak: deps
	rm -f Benchmarks/.build/release.yaml
	cd Benchmarks && $(SWIFT) run -c release TransportBenchmarks soak --duration $(SOAK_SECONDS)

## Fuzzing with libFuzzer (Linux; nested package in Fuzz/, release build with -sanitize=fuzzer):
## every target for FUZZ_RUNS executions (default 10^7) or, if set, FUZZ_TIME seconds each.
## A crash, a timeout (10 s) or 2 GB of memory fails it; see docs/fuzzing.md.
FUZZ_RUNS ?= 10000000
fuzz: deps
	SWIFT=$(SWIFT) FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_TIME=$(FUZZ_TIME) scripts/fuzz.sh

## Every fuzz target briefly (FUZZ_SMOKE_RUNS executions each, default 20000); also run by `make test`.
fuzz-smoke: deps
	SWIFT=$(SWIFT) scripts/fuzz.sh --smoke

## A throwaway Dovecot, a fresh server and the mailsync commands, end to end; cleans up after itself.
demo: deps
	$(SWIFT) build --product mailsync
	$(SWIFT) build --product mailsync-demo
	.build/debug/mailsync-demo

## Three fleet nodes on a three-member etcd: a redirect, a planned move and a failover, timed.
cluster-demo: deps
	$(SWIFT) build --product mailsync
	scripts/cluster-demo.sh

clean:
	rm -rf .build Benchmarks/.build Fuzz/.build Clients/Swift/.build Clients/Swift/Examples/SampleApp/.build
