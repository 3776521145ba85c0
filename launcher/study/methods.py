"""A campaign's method names, single and chained. Pure.

Single methods: ``fp16`` / ``int8`` (TFLite post-training quantization), ``pruneNN`` (tfmot
pruning to NN % sparsity), ``distill`` (into the student), ``scratch`` (the student alone).

A chain ``A+B`` is the TFLite quantization B (``fp16`` or ``int8``) of the model method A made
(``pruneNN`` or ``distill``): how models are shipped, since pruning's zeros only pay off in a
compressed file and quantization shrinks what is left. Each link is its own job with its own
content key: the quantize job's input is the prune or distill job's model (its SavedModel),
so ``prune50`` and ``prune50+int8`` share one pruning job.
"""

from __future__ import annotations

import re

SINGLE = r"fp16|int8|prune[1-9][0-9]?|distill|scratch"
CHAIN_FIRST = r"prune[1-9][0-9]?|distill"  # what makes a Keras model a converter can take
CHAIN_LAST = r"fp16|int8"  # a quantization: the end of the chain (a .tflite file)
CHAIN = rf"(?:{CHAIN_FIRST})\+(?:{CHAIN_LAST})"
METHOD_PATTERN = rf"^(?:{SINGLE}|{CHAIN})$"
METHODS_HELP = "fp16, int8, pruneNN, distill, scratch, and chains A+B (A pruneNN or distill, " \
    "B fp16 or int8)"


def split_chain(method: str) -> tuple[str, str] | None:
    """``prune50+int8`` -> ("prune50", "int8"); a single method (or anything else) -> None."""
    if re.fullmatch(CHAIN, method) is None:
        return None
    first, last = method.split("+")
    return first, last


def is_chain(method: str) -> bool:
    return "+" in method
