"""Testing support that ships with the hub: fakes of the systems it talks to (the e-conomic
API) and the plugin conformance kit (:mod:`hub.testing.conformance`) integrators run."""
