"""Composition root: builds the broker and its listeners from Settings."""
