"""Data files of the policy (the Google search domains for safe search)."""
