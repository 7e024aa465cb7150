"""Fake accounting servers that follow each vendor's own contract, over real HTTP on loopback:
e-conomic (:mod:`hub.testing.fakes.economic`) and Tripletex (:mod:`hub.testing.fakes.tripletex`),
described in ``docs/fakes/``. Neither imports the other; what they share is here: ``http`` (the
loopback server), ``app`` (request log, serving around a fault, routing, rate buckets),
``faults``, ``wire`` (the JSON writer), ``money`` (amounts) and ``seeding`` (``python -m``)."""
