"""Name matching: the forms a name is compared in, and scoring a query against stored names.

Pure functions, no database. A stored name is turned into *forms* (``forms``); a query into
the same forms; ``best_match`` scores every pair with rapidfuzz and explains the best: which
stored name matched, through which form, and how well (0–1).
"""

from vetting.matching.forms import Form, bare_legal_form, fold, forms, tokens
from vetting.matching.score import Match, best_match

__all__ = ["Form", "Match", "bare_legal_form", "best_match", "fold", "forms", "tokens"]
