"""One small sender per channel type behind one interface (``base.Sender``), so the relay's
logic (batching, pace, retries, dead letters) is written and tested once."""
