"""kerasrnn_torch's tests, in folders that mirror the package; the top-level modules' tests and the bad-input catalogue here."""
