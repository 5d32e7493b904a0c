# The two commands of the README, and a few helpers. Each sets up what is missing first.
.PHONY: accept test repeat setup stack-start stack-stop stack-status

ARGS ?=
RUNS ?= 5
PYTEST_ARGS ?=

accept: setup  ## the whole acceptance run against the embedded stack: verdict per criterion + HTML report
	.venv/bin/python -m citadel_acceptance.cli.accept $(ARGS)

test: setup  ## every test: library and stack (pytest), the spec's step coverage, the self-test against faults
	PYTEST_ARGS="$(PYTEST_ARGS)" bash tools/test.sh

repeat: setup  ## the acceptance run five times in a row (RUNS=N): names any scenario whose outcome changed
	.venv/bin/python -m citadel_acceptance.cli.repeat --runs $(RUNS) $(ARGS)

setup:
	bash tools/setup.sh

stack-start: setup  ## start the embedded stack and leave it running (behave runs then attach to it)
	.venv/bin/python -m citadel_acceptance.cli.stack start

stack-status:
	.venv/bin/python -m citadel_stack status

stack-stop:
	.venv/bin/python -m citadel_stack stop
