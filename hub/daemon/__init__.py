"""The daemon's room: ``hub run`` and what it schedules.

- :mod:`hub.daemon.jobs`: the units of scheduled work, plain functions of (job kind, client)
  that call the operations layer;
- :mod:`hub.daemon.schedules`: the schedule files;
- :mod:`hub.daemon.scheduler`: APScheduler with its job store in the hub's database;
- :mod:`hub.daemon.health`, :mod:`hub.daemon.metrics`: ``/healthz`` and ``/metrics``.
"""
