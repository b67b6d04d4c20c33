"""Customer rules with no I/O: identity hashes, phone numbers, private URL parameters."""
