"""Use cases: each takes a Session, changes records and process state together, flushes and never commits."""
