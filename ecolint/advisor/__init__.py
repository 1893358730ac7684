"""The advisor commands (`ecolint advise`, `compare`, `explain`): answers built on the same
knowledge (rules/*.yaml), resolution (ecolint.resolve) and Setup code as the linter.

advise.py   one setup → recommendation, evidence, confidence, config line, risks, questions
compare.py  options side by side (precisions or GPUs), one winner per dimension
explain.py  the setups the extractors find in a file, each with the advise answer
text.py     the text report of each (JSON is the documents themselves)
"""

from ecolint.advisor.inputs import AdviceInputError, Inputs

__all__ = ["AdviceInputError", "Inputs"]
