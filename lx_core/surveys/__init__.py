"""Survey scoring: the scoring models declared in ``infra/leanix/scoring/``."""
