"""Reading and writing character cards at the limits, in this process (no server).

A card as large as the limits allow (500 lorebook entries of 2,000 characters, descriptions of
20,000) read from JSON, from a PNG and from a CharX, and written as a PNG; and a zip bomb
(40 MiB of zeros in a 40 KiB CharX) refused. Prints the median and worst of each.

    .venv/bin/python -m bench.cards [--rounds 20]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import time
import zipfile
from collections.abc import Callable
from typing import Any

from pipeline.cards import CardError, card_png, read_card
from tests.cards.samples import card_png as sample_png
from tests.cards.samples import charx, picture, sillytavern_v2

WORDS = "the forest glade healer wolf amulet night river stone light ancient quiet".split()


def prose(rng: random.Random, length: int) -> str:
    """Text that compresses like prose (about 3:1), not like one repeated word."""
    return " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(length // 8))[
        :length
    ]


def big_card() -> dict[str, Any]:
    rng = random.Random(11)
    card = sillytavern_v2()
    data = card["data"]
    for key in ("description", "personality", "scenario", "first_mes", "mes_example"):
        data[key] = prose(rng, 20_000)
    entry = data["character_book"]["entries"][1]
    data["character_book"]["entries"] = [
        {**entry, "id": i, "content": prose(rng, 2_000), "keys": [f"key{i}", f"alias{i}"]}
        for i in range(500)
    ]
    return card


def timed(label: str, rounds: int, action: Callable[[], object], size: int) -> None:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    print(
        f"{label:<34} {size / 1024:8.0f} KiB  p50 {statistics.median(times):6.1f} ms"
        f"  max {max(times):6.1f} ms"
    )


def refused(raw: bytes) -> None:
    try:
        read_card(raw)
    except CardError:
        return
    raise AssertionError("the bomb was read")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    card = big_card()
    as_json = json.dumps(card).encode()
    as_png = sample_png({"chara": card}, picture(512, 768))
    as_charx = charx({**card, "spec": "chara_card_v3", "spec_version": "3.0"})
    parsed = read_card(as_png).card
    written = card_png(parsed, picture(512, 768))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", as_json)
        archive.writestr("assets/other/other/bomb.bin", bytes(40 * 1024 * 1024))
    bomb = buffer.getvalue()
    timed("read JSON (500 entries)", rounds, lambda: read_card(as_json), len(as_json))
    timed("read PNG (chara)", rounds, lambda: read_card(as_png), len(as_png))
    timed("read CharX", rounds, lambda: read_card(as_charx), len(as_charx))
    timed(
        "write PNG (ccv3 + chara)",
        rounds,
        lambda: card_png(parsed, picture(512, 768)),
        len(written),
    )
    drawn = len(card_png(parsed, None))
    timed("write PNG, placeholder picture", rounds, lambda: card_png(parsed, None), drawn)
    timed("refuse a zip bomb (40 MiB of zeros)", rounds, lambda: refused(bomb), len(bomb))


if __name__ == "__main__":
    main()
