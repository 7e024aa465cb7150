"""``python -m hub.testing.fakes.tripletex``: seed, print the URL, serve until killed."""

from hub.testing.fakes.tripletex import main

main()
