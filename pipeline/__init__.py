"""Speech, language and streaming building blocks.

A leaf package: it never imports from ``api``, ``schema``, ``resolvers``, ``services`` or ``store``.
"""
