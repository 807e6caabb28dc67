"""Task families: the steps between a task's examples and its predictions (features, batches,
heads, decoding), one module per family: classification, tagging, span QA, multiple choice,
retrieval, masked LM. A task in the catalogue names its family by importing its class."""
