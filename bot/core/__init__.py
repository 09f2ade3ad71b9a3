"""Channel-neutral conversation flows; they never import a messenger library and never send."""
