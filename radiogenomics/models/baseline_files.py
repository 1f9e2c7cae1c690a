"""Comparison-model files (``models/{target}/{model}/final.skops.zip``) without pickle.

A fitted comparison model (:class:`baselines.BaselineFit`: a scikit-learn pipeline, possibly
with a random forest or an XGBoost model inside) is saved as one zip archive holding

* ``estimator.skops`` - the pipeline in skops' format (:mod:`skops.io`): a JSON schema and
  numpy arrays, read back by :func:`skops.io.loads` with an explicit list of trusted types
  (:data:`TRUSTED_TYPES`, beside the numpy, scipy and scikit-learn types skops trusts itself).
  Nothing is unpickled: an archive naming any other type is refused before anything is built.
* ``fit.json`` - name, target type, classes, genes, chosen parameters and inner score;
* ``search.tsv`` - the inner search table.

skops names its arrays by object ids and stamps the time into its zip, so the archive is
rewritten canonically (arrays numbered in schema order, fixed timestamps): the same model gives
the same bytes.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

import pandas as pd
import skops.io as sio

from radiogenomics.models.baselines import BaselineFit
from radiogenomics.results import atomic_path, json_dumps

FORMAT = "radiogenomics-baseline/1"

#: Types beyond skops' defaults that a comparison model of :mod:`radiogenomics.models.baselines` contains.
TRUSTED_TYPES = (
    "radiogenomics.models.baselines.SerialPredictForestClassifier",
    "radiogenomics.models.baselines.SerialPredictForestRegressor",
    "sklearn.tree._tree.Tree",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
)

_DATE = (1980, 1, 1, 0, 0, 0)


def _write_zip(records: list[tuple[str, bytes]]) -> bytes:
    """A zip of ``records`` in this order with fixed timestamps and permissions (same records, same bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in records:
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data, compresslevel=6)
    return buffer.getvalue()


def canonical_skops(data: bytes) -> bytes:
    """skops bytes rewritten canonically: object ids and array file names numbered in schema order."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        schema = json.loads(z.read("schema.json"))
        ids: dict[Any, int] = {}
        names: dict[str, str] = {}
        records: list[tuple[str, bytes]] = []

        def walk(node: Any) -> Any:
            if isinstance(node, list):
                return [walk(v) for v in node]
            if not isinstance(node, dict):
                return node
            out = {}
            for key, value in node.items():
                if key == "__id__":
                    value = ids.setdefault(value, len(ids))
                elif key == "file" and isinstance(value, str):
                    if value not in names:
                        names[value] = f"{len(names)}{os.path.splitext(value)[1]}"
                        records.append((names[value], z.read(value)))
                    value = names[value]
                else:
                    value = walk(value)
                out[key] = value
            return out

        schema = walk(schema)
    return _write_zip(records + [("schema.json", json.dumps(schema, indent=1).encode())])


def save_model(model: BaselineFit, path: str | os.PathLike) -> None:
    """Save a fitted comparison model atomically (skops, no pickle; same model, same bytes)."""
    if not isinstance(model, BaselineFit):
        raise TypeError(f"{path}: expected a baselines.BaselineFit, got {type(model).__name__}")
    meta = {"format": FORMAT, "name": model.name, "target_type": model.target_type, "classes": list(model.classes),
            "genes": [str(g) for g in model.genes], "params": model.params, "inner_score": model.inner_score}
    table = model.table.to_csv(sep="\t", index=False) if len(model.table.columns) else ""
    data = _write_zip([("fit.json", json_dumps(meta).encode()), ("search.tsv", table.encode()),
                       ("estimator.skops", canonical_skops(sio.dumps(model.estimator)))])
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def load_model(path: str | os.PathLike) -> BaselineFit:
    """Read a file written by :func:`save_model`; only :data:`TRUSTED_TYPES` and skops' defaults are built.

    A file of another format (a pickle of an older version of this workflow) or naming an untrusted
    type is a ``ValueError`` naming the file.
    """
    regenerate = "delete it and rerun the rule that writes it (snakemake --forcerun final_baseline)"
    try:
        with zipfile.ZipFile(path) as z:
            meta = json.loads(z.read("fit.json"))
            table_text = z.read("search.tsv").decode()
            estimator_bytes = z.read("estimator.skops")
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ValueError(f"comparison model file {path}: not a {FORMAT} archive ({exc}); {regenerate}") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"comparison model file {path}: format {meta.get('format')!r}, expected {FORMAT!r}; "
                         f"{regenerate}")
    untrusted = set(sio.get_untrusted_types(data=estimator_bytes)) - set(TRUSTED_TYPES)
    if untrusted:
        raise ValueError(f"comparison model file {path}: names types this workflow never saves "
                         f"{sorted(untrusted)}; refusing to load it")
    estimator = sio.loads(estimator_bytes, trusted=list(TRUSTED_TYPES))
    table = pd.read_csv(io.StringIO(table_text), sep="\t") if table_text else pd.DataFrame()
    return BaselineFit(name=meta["name"], target_type=meta["target_type"], classes=list(meta["classes"]),
                       genes=list(meta["genes"]), estimator=estimator, params=dict(meta["params"]),
                       inner_score=meta["inner_score"], table=table)
