"""What talks to the outside world: the database backends, key files, the live-feed
wakeup, demo secrets and log output."""
