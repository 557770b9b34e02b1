"""The IR, the op library, graph walking, rewriting, gradients and printing."""
