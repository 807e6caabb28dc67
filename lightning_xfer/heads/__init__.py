"""Task heads. Each reads the shared encoder's hidden states and a batch, and returns a `HeadOutput`."""

from lightning_xfer.heads.masked_lm import MaskedLMHead
from lightning_xfer.heads.multiple_choice import MultipleChoiceHead
from lightning_xfer.heads.output import IGNORE_INDEX, Head, HeadOutput
from lightning_xfer.heads.retrieval import RetrievalHead
from lightning_xfer.heads.sequence_classification import SequenceClassificationHead
from lightning_xfer.heads.span_qa import SpanQAHead
from lightning_xfer.heads.token_tagging import TokenTaggingHead

__all__ = [
    "IGNORE_INDEX",
    "Head",
    "HeadOutput",
    "MaskedLMHead",
    "MultipleChoiceHead",
    "RetrievalHead",
    "SequenceClassificationHead",
    "SpanQAHead",
    "TokenTaggingHead",
]
