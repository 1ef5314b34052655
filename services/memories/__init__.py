"""Long-term memory: what a companion remembers about each person (issue 11).

``recall`` picks memories for a prompt; ``store`` is the person's view (list, search, remember,
edit, forget); ``forming`` turns a finished turn into memories in the background.
"""

from services.memories.recall import recall

__all__ = ["recall"]
