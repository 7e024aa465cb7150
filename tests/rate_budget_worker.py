"""One process of tests/test_rate_budget.py's cross-process test: a hub client of one e-conomic
app, made as the plugin makes it (so its ``rate_key`` is the app secret token), behind the gate
:func:`hub.operations.rate_budget.install_for` installs on the shared PostgreSQL database, sending
``count`` GET /self as fast as the gate lets it.

``python -m tests.rate_budget_worker DB_URL BASE_URL APP GRANT COUNT REQUESTS SECONDS START_AT``
(``START_AT``: a :func:`time.time` to start at, so the processes start together). Prints one JSON
line: ``{"done": N, "seconds": S}``.
"""

from __future__ import annotations

import json
import sys
import time

from hub_economic.client import EconomicClient
from hub_economic.settings import load_config

from hub.db.engine import Database
from hub.operations.rate_budget import install_for
from hub.toolkit.budget import Budget
from hub.toolkit.http import RetryPolicy
from hub.toolkit.pool import HttpOptions


def main(argv: list[str]) -> int:
    db_url, base_url, app, grant, count, requests, seconds, start_at = argv
    db = Database(db_url)
    install_for(db, {"economic": Budget(int(requests), int(seconds))})
    config = load_config(
        {"app_secret_token": app, "agreement_grant_token": grant, "base_url": base_url}
    )
    options = HttpOptions(retry=RetryPolicy(max_attempts=10, initial_backoff=0.05, max_backoff=0.5))
    client = EconomicClient(config, options)
    time.sleep(max(float(start_at) - time.time(), 0.0))
    started = time.monotonic()
    done = 0
    for _ in range(int(count)):
        client.get("/self")
        done += 1
    client.close()
    db.dispose()
    print(json.dumps({"done": done, "seconds": round(time.monotonic() - started, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
