"""Hologram devices: RFC 8628 pairing, scoped device tokens, presence, commands, manifests."""
