"""The request context and the app state it carries: below ``schema/`` (its types read
loaders and the caller) and above ``services/``."""
