"""Incremental sentence splitting, so speech can start before the model has finished.

A sentence ends at ``.``, ``!``, ``?`` or ``…`` runs (``?!``, ``...``) plus closing quotes or
brackets, followed by whitespace; and at every newline (lists, paragraphs). A period is not an end
after a known abbreviation (``Dr.``), inside a number (``3.5``), or when the next word starts with a
lowercase letter (``Well... maybe``), so the splitter waits for the next non-space character
before deciding. Over-long runs without punctuation are cut at a comma or space so speech is never
held back for long.

The first piece of a reply is cut for latency, as in a hands-free conversation its wait is what
the person hears as the companion's delay (``bench.voice``):
- it ends at its first sentence's end as soon as the text stops there, after a plain word
  ("me.", not "3." or "Dr."), rather than a token later, when the next word has come;
- it may end at its first clause break (a comma, semicolon or colon and a space) once it holds
  ``first_clause_words`` words: "Hmm, let me think about that, Ada." is spoken as "Hmm, let me
  think about that," and the rest, so its audio starts a few words sooner (the offline
  responder's first sentence took ~150-210 ms to write).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TERMINATORS = ".!?…"
_CLAUSE_BREAK = re.compile(r"[,;:] ")
_CLOSERS = "\"'”’)]»"
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc e.g i.e eg ie approx no fig mt ave inc ltd co jan feb "
    "mar apr jun jul aug sep sept oct nov dec a.m p.m".split()
)


@dataclass(frozen=True, slots=True)
class Sentence:
    """A complete sentence; ``start``/``end`` are offsets in the fed text (``start`` includes the
    whitespace before it, so consecutive spans tile the stream)."""

    text: str
    start: int
    end: int


class SentenceSplitter:
    def __init__(self, max_chars: int = 240, first_clause_words: int = 0) -> None:
        self._buf = ""
        self._base = 0  # offset of _buf[0] in the whole stream
        self._scan = 0  # index in _buf from which to look for the next end
        self._max_chars = max_chars
        self._first_clause_words = first_clause_words  # 0: the first piece is a whole sentence

    def feed(self, text: str) -> list[Sentence]:
        self._buf += text
        return self._split(final=False)

    def finish(self) -> list[Sentence]:
        """Flush the remainder as the last sentence (if it has any text)."""
        out = self._split(final=True)
        if self._buf.strip():
            out.append(self._take(len(self._buf)))
        else:
            self._base += len(self._buf)
            self._buf = ""
        self._scan = 0
        return out

    def _split(self, *, final: bool) -> list[Sentence]:
        out: list[Sentence] = []
        while True:
            end = self._find_end(final=final)
            clause = self._first_clause(len(self._buf) if end is None else end)
            if clause:
                out.append(self._take(clause))
                continue
            if end is None:
                break
            if self._buf[:end].strip():
                out.append(self._take(end))
            else:  # only whitespace before a newline: fold it into the next sentence
                self._scan = end
        if len(self._buf) > self._max_chars:
            cut = self._soft_cut()
            if cut:
                out.append(self._take(cut))
        return out

    def _take(self, end: int) -> Sentence:
        raw = self._buf[:end]
        sentence = Sentence(raw.strip(), self._base, self._base + end)
        self._buf = self._buf[end:]
        self._base += end
        self._scan = 0
        return sentence

    def _find_end(self, *, final: bool) -> int | None:
        buf, i = self._buf, self._scan
        while i < len(buf):
            ch = buf[i]
            if ch == "\n":
                return i + 1
            if ch not in _TERMINATORS:
                i += 1
                continue
            j = i
            while j < len(buf) and buf[j] in _TERMINATORS:
                j += 1
            while j < len(buf) and buf[j] in _CLOSERS:
                j += 1
            if j == len(buf):
                if final or self._plain_first_end(i):
                    return j
                self._scan = i
                return None
            if not buf[j].isspace():
                i = j  # "3.5", "a.m.x", "word!word"
                continue
            if set(buf[i:j]) & set("!?"):
                return j
            k = j
            while k < len(buf) and buf[k].isspace() and buf[k] != "\n":
                k += 1
            if k == len(buf) and not final:
                self._scan = i  # the next word decides: "Dr. Smith" or "Well... maybe"
                return None
            if self._is_abbreviation(i) or (k < len(buf) and buf[k].islower()):
                i = j
                continue
            return j
        self._scan = i
        return None

    def _is_abbreviation(self, dot: int) -> bool:
        if self._buf[dot] != "." or self._buf[dot : dot + 2] == "..":
            return False
        start = dot
        while (
            start > 0 and not self._buf[start - 1].isspace() and self._buf[start - 1] not in "(\"'"
        ):
            start -= 1
        word = self._buf[start:dot].lower()
        line_start = self._buf.rfind("\n", 0, start) + 1
        if word.isdigit() and not self._buf[line_start:start].strip():
            return True  # a list number: "1. Apples"
        return word in _ABBREVIATIONS

    def _plain_first_end(self, run: int) -> bool:
        """Whether the reply's first piece ends at the terminator run starting at ``run``,
        though the text stops there: after a plain word ("me.", "Really?"), nothing the next
        token could turn into "3.5", "Dr. Smith", "U.S." or "Well... maybe". Its speech then
        starts a token sooner; later sentences wait for the next word (they are never late)."""
        if self._base or not self._first_clause_words:
            return False
        marks = self._buf[run:].rstrip(_CLOSERS)
        if marks not in (".", "!", "?"):
            return False
        word = self._buf[:run].rsplit(None, 1)[-1] if self._buf[:run].strip() else ""
        return (
            len(word) >= 2
            and word.replace("'", "").replace("’", "").isalpha()
            and not word.isupper()
            and word.lower() not in _ABBREVIATIONS
        )

    def _first_clause(self, before: int) -> int:
        """Where the reply's first clause ends, if it is long enough to say on its own and
        ends ``before`` its first sentence does; 0 otherwise (and after the first piece)."""
        if self._base or not self._first_clause_words:
            return 0
        for brk in _CLAUSE_BREAK.finditer(self._buf, 0, before):
            if len(self._buf[: brk.start()].split()) >= self._first_clause_words:
                return brk.end()
        return 0

    def _soft_cut(self) -> int:
        window = self._buf[: self._max_chars]
        for sep in (", ", "; ", ": ", " "):
            pos = window.rfind(sep)
            if pos > self._max_chars // 3:
                return pos + len(sep)
        return 0
