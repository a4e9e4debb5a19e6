"""Aspect-level opinions (aspect-based sentiment analysis): which aspect, which opinion, which
polarity, which category.

* :mod:`qinggan.absa.chars`: character folding that keeps every offset (spans map back to the
  caller's text), long texts cut into pieces;
* :mod:`qinggan.absa.model`: the shipped model (tagger + pair scorer + aspect-polarity classifier,
  ONNX, run by onnxruntime);
* :mod:`qinggan.absa.categories`: the keyword lexicon that gives each aspect its category.

The package is called ``absa`` so that ``qinggan.aspects`` stays the function of the public API.
"""

from qinggan.absa.categories import CategoryLexicon
from qinggan.absa.model import AspectModel, RawOpinion

__all__ = ["AspectModel", "CategoryLexicon", "RawOpinion"]
