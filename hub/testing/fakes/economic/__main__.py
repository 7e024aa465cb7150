"""``python -m hub.testing.fakes.economic``: seed, print the URL, serve until killed."""

from hub.testing.fakes.economic import main

main()
