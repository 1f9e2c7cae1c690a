"""Cross-validate one target network on its split file, then refit it on all of the target's patients."""

import _common

log = _common.start(snakemake, "train_network")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import cohorts, files, nets, targets, training  # noqa: E402

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards  # noqa: F821
meta = files.read_json(inp.meta)[wc.target]
expression = pd.read_parquet(inp.expression)
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, meta["type"])
folds = cohorts.read_folds(inp.folds)
cfg = training.TrainingConfig.from_dict({**params.training, "val_fraction": params.val_fraction})
encoder = None
if "encoder" in inp.keys():
    encoder, genes, _ = training.load_encoder(inp.encoder)
    if genes != list(expression.columns):
        raise ValueError(f"{inp.encoder}: the autoencoder's genes differ from the expression matrix's")
predictions, scores, fold_models = training.cross_validate(expression, y, folds, meta["type"], meta["classes"],
                                              params.architecture, cfg, params.seed, encoder=encoder, target=wc.target)
epochs = training.final_epochs(scores)
log.info("%s: refit on all %d patients for %d epochs (median early-stopping epoch)", wc.target, len(y), epochs)
final = training.fit_network(expression, y.loc[folds["patient"]], meta["type"], meta["classes"], params.architecture,
                             cfg, params.seed, encoder=encoder, epochs=epochs, target=wc.target, label=f"{wc.target} final")
final.info.update({"cv_best_epochs": scores["best_epoch"].tolist(), "final_epochs": epochs})
files.write_table(predictions, out.predictions)
files.write_table(scores, out.scores)
nets.save_fold_models(fold_models, out.fold_models)
final.save(out.model)
