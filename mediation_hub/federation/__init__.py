"""Federation between hubs: peers, signed messages, outbox and inbox (docs/FEDERATION.md)."""
