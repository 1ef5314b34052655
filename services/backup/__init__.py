"""``holomate backup`` / ``holomate restore``: the database and the blobs, with a manifest."""
