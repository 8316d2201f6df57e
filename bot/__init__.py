"""copbot's platform-neutral command core: events in, replies out."""
