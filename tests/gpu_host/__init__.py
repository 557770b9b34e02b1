"""Host test doubles of the GPU stack: ``cupy_on_host`` stands in for ``cupy``."""
