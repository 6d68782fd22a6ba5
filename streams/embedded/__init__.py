"""The embedded stack of `make up` and the tests: the broker and mail catcher processes,
children that die with their parent, supervision and restarts, worker clusters, samples."""
