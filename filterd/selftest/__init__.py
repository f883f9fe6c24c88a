"""The filter validity self-test (`roja selftest`): through the running resolver, check that
every deny and legal list is enforced per group (with reserved test names, never real harmful
ones), that safe search and the DoH canary are answered, and that an allowed name resolves.
Results are stored as `selftest_pass`/`selftest_fail` events for the monthly report."""
