"""Fake accounting servers that follow each vendor's own contract, over real HTTP on loopback:
e-conomic (:mod:`hub.testing.fakes.economic`) and Tripletex (:mod:`hub.testing.fakes.tripletex`),
on one HTTP server (:mod:`hub.testing.fakes.http`). Neither imports the other."""
