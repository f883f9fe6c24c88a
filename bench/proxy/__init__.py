"""The proxy benchmark (issue 5): Roja (DNS steering + proxy) against squid + squidGuard."""
