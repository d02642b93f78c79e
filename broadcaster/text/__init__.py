"""Vietnamese written text -> speakable text: numbers, dates, document symbols, abbreviations.

`Normalizer(overrides).normalize(text)` rewrites a bulletin for a speech engine;
`Normalizer.check(text)` lists what it could not read confidently; `load_dictionary(path)`
reads and validates a station's pronunciation dictionary (YAML: written form -> reading).
"""

from broadcaster.text.dictionary import load_dictionary
from broadcaster.text.normalizer import Normalizer
from broadcaster.text.rules import Finding

__all__ = ["Finding", "Normalizer", "load_dictionary"]
