"""``python -m citadel_stack.gateway --config PATH``: run the gateway with uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys

import uvicorn
from prometheus_client import disable_created_metrics

from citadel_stack.faults import TLS_1_0_ACCEPTED

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
    app = create_app(config)
    common = {"host": config.host, "log_level": "warning", "access_log": False, "timeout_graceful_shutdown": 5}
    servers = [uvicorn.Server(uvicorn.Config(app, port=config.port, lifespan="on", **common))]
    if config.tls is not None:
        tls = uvicorn.Config(app, port=config.tls.port, lifespan="off", ssl_certfile=config.tls.certfile,
                             ssl_keyfile=config.tls.keyfile, **common)
        tls.load()
        _harden(tls.ssl, weak=TLS_1_0_ACCEPTED in config.faults)
        servers.append(uvicorn.Server(tls))
    asyncio.run(_serve(servers))
    return 0


def _harden(context: ssl.SSLContext, weak: bool) -> None:
    """TLS 1.2 or newer only (fault tls_1_0_accepted, self-test only: TLS 1.0 and weak ciphers too)."""
    if weak:
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2


async def _serve(servers: list[uvicorn.Server]) -> None:
    """The HTTP listener (with the app's lifespan) first, then the HTTPS one beside it."""
    first = asyncio.create_task(servers[0].serve())
    while not servers[0].started and not first.done():
        await asyncio.sleep(0.05)
    await asyncio.gather(first, *(server.serve() for server in servers[1:]))


if __name__ == "__main__":
    sys.exit(main())
