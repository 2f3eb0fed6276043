# The two commands of the README's quick start, and their parts.
.PHONY: run test setup build bench

run:     ## install what is missing, build, and run the app with the local provider
	bash tools/run.sh

test:    ## install what is missing, and run every test (native, browser, end-to-end)
	bash tools/test.sh

setup:
	bash tools/setup.sh --test

build:
	bash -c 'source tools/env.sh && cd "$$ROOT" && CSP_LOCAL_PORTS=0 trunk build --release'

bench:   ## benchmark: bytes and timings, ours against React + oidc-client-ts (BENCH_RUNS=21)
	bash bench/run.sh
