"""Small data tables shipped with ``physml`` (read with :mod:`importlib.resources`; nothing is
downloaded). Each CSV file starts with comment lines (``#``) that state its source."""
