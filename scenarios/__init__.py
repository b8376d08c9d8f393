"""Everything around the model: configs, the run pipeline, results, plots and the CLI."""
