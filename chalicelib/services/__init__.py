"""Use cases: plain functions over the repository. They read, decide with domain/, and write once."""
