"""``python -m citadel_stack.gateway --config PATH``: run the gateway with uvicorn."""

from __future__ import annotations

import argparse
import sys

import uvicorn
from prometheus_client import disable_created_metrics

from .app import create_app
from .config import GatewayConfig


def main(argv: list[str] | None = None) -> int:
    """Load the config, build the app and serve it until stopped."""
    parser = argparse.ArgumentParser(prog="python -m citadel_stack.gateway", description=__doc__)
    parser.add_argument("--config", required=True, help="the gateway's JSON config file (written by the launcher)")
    args = parser.parse_args(argv)
    try:
        config = GatewayConfig.load(args.config)
    except (OSError, ValueError) as exc:
        print(f"citadel gateway: {exc}", file=sys.stderr)
        return 2
    disable_created_metrics()  # no *_created series: this process exports only the gateway's registry
    uvicorn.run(
        create_app(config),
        host=config.host,
        port=config.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
