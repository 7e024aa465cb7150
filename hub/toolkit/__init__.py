"""The plugins' toolkit: what an accounting or delivery plugin needs besides the contract
(:mod:`hub.hookspecs`, :mod:`hub.model`, :mod:`hub.errors`), written once for every plugin.

- :mod:`hub.toolkit.http`: the HTTP client (retries, throttling, secret headers, logging);
- :mod:`hub.toolkit.wire`: Decimal-exact JSON;
- :mod:`hub.toolkit.files`: files written once, atomically, under a name derived from a key;
- :mod:`hub.toolkit.serving`: an HTTP server run from a daemon thread (fakes, health).

Nothing here touches the hub's database or its domain.
"""
