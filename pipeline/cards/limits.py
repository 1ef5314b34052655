"""What one card may hold. Real cards are far below these: SillyTavern's and chub.ai's largest
descriptions run to a few thousand characters and lorebooks to a couple of hundred entries; the
limits stop a card from filling the database, not a person from bringing their character."""

from __future__ import annotations

MAX_FILE_BYTES = 8 * 1024 * 1024  # under the API's upload limit (HOLOMATE_MAX_UPLOAD_BYTES)
MAX_NAME = 80  # as a companion's name
MAX_TEXT = 20_000  # description, personality, first_mes, each greeting, an entry's content...
MAX_SHORT = 200  # creator, character_version, a tag, an entry's name, an asset's fields
MAX_KEY = 1_000  # one lorebook key (some are regular expressions)
MAX_ITEMS = 100  # greetings, tags, keys of one entry, assets, sources
MAX_ENTRIES = 500  # lorebook entries
MAX_POSITION = 32
MAX_EXTRA_JSON = 2 * 1024 * 1024  # what has no column (extensions, unknown fields), serialised
MAX_IMAGE_SIDE = 8192  # pixels, either way: a picture larger than that is not a portrait
MAX_INT = 2**31 - 1  # insertion_order and priority are 32-bit columns
# CharX (zip): counted from the archive's directory before anything is decompressed.
MAX_ZIP_ENTRIES = 1_000
MAX_ZIP_TOTAL = 64 * 1024 * 1024  # declared uncompressed size of every entry together
MAX_ZIP_RATIO = 100  # uncompressed / compressed, for entries over ZIP_RATIO_FROM bytes
ZIP_RATIO_FROM = 1024 * 1024
