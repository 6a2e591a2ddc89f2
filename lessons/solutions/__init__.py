"""Solutions to the notebook exercises, one module per notebook, checked by the tests."""
