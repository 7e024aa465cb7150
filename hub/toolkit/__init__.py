"""The plugins' toolkit: what an accounting or delivery plugin needs besides the contract
(:mod:`hub.hookspecs`, :mod:`hub.model`, :mod:`hub.errors`), written once for every plugin.

- :mod:`hub.toolkit.http`: the HTTP client (retries, throttling, secret headers, logging);
- :mod:`hub.toolkit.api`: a JSON API client base (one request: allowed statuses, errors, JSON);
- :mod:`hub.toolkit.pool`: one long-lived client per hub client and credential; HTTP options;
- :mod:`hub.toolkit.settings`: typed access to a client's settings, checked against the specs;
- :mod:`hub.toolkit.fields`: JSON field readers that say where a record failed;
- :mod:`hub.toolkit.vendor`: a vendor's error answers turned into hub errors, secrets scrubbed;
- :mod:`hub.toolkit.wire`: Decimal-exact JSON;
- :mod:`hub.toolkit.files`: files written once, atomically, under a name derived from a key;
- :mod:`hub.toolkit.plugin`: a plugin's version and its ``system_info`` hook;
- :mod:`hub.toolkit.events`: observers of the HTTP clients' requests and retries (metrics);
- :mod:`hub.toolkit.budget`: the rate gate the HTTP clients ask (shared rate budgets);
- :mod:`hub.toolkit.serving`: an HTTP server run from a daemon thread (fakes, health);
- :mod:`hub.toolkit.closing`: the ``with`` protocol for things that close.

Nothing here touches the hub's database, its domain or its metrics (an import contract in
pyproject.toml checks it). ``hub.http`` and ``hub.files`` are the old names of two of them.
"""
