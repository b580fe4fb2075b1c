"""HQ at chain scale: the parts of HQ beyond the receiver (hub/sync/hq.py), each an
`HQPart` listed in `hub/hq/parts.py`, and HQ's console and web-shop API."""
