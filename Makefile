# The two commands of the README, and a few helpers. Each sets up what is missing first.
.PHONY: accept test setup stack-start stack-stop stack-status

ARGS ?=
PYTEST_ARGS ?=

accept: setup  ## the whole acceptance run against the embedded stack: verdict per criterion + HTML report
	.venv/bin/python -m citadel_acceptance.accept $(ARGS)

test: setup  ## every test: library and stack (pytest), the spec's step coverage, the self-test against faults
	PYTEST_ARGS="$(PYTEST_ARGS)" bash tools/test.sh

setup:
	bash tools/setup.sh

stack-start: setup  ## start the embedded stack and leave it running (behave runs then attach to it)
	.venv/bin/python -m citadel_stack start

stack-status:
	.venv/bin/python -m citadel_stack status

stack-stop:
	.venv/bin/python -m citadel_stack stop
