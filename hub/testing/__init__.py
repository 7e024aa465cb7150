"""Testing support that ships with the hub: fakes of the systems it talks to
(:mod:`hub.testing.fakes`: e-conomic and Tripletex, each following its vendor's contract), the
plugin conformance kit (:mod:`hub.testing.conformance`) integrators run, and contexts for a
plugin's own tests (:mod:`hub.testing.contexts`)."""
