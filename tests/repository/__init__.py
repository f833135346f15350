"""The repository's hygiene: README, CHANGELOG, docs site, docstrings, examples, packaging, typing, architecture."""
