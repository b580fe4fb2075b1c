"""HQ's console: the chain's web pages, served with the receiver by `loupe hq run --web`."""
