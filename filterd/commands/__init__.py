"""Sub-commands of `roja`, one module per group."""
