"""Real external peers (NSD, ...) started on loopback ports chosen at run time for the tests."""
