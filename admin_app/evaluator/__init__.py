"""The evaluator's channels: the pseudonymised dashboard, the read-only API and its tokens, one disclosure rule set."""
