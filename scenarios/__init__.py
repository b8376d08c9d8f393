"""Everything around the model: configs, the ensemble runner, the results folder, plots and the CLI."""
