"""Loading a model safely, and deciding which input columns it reads, in which order.

skops files are loaded with an explicit trusted-type list (skops' own defaults plus the config's
`model.trusted_types`, pinned by SHA-256, never a name that reaches the system: `config.trust`);
joblib and pickle files run code when loaded, so their bytes must match the
config's SHA-256 pin before anything deserialises them.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import pickle
import pydoc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import skops.io as sio

from config.trust import denied_prefix
from job.exceptions import InputError, ModelError
from job.storage import read_bytes

if TYPE_CHECKING:
    from config.models import ModelSpec


@dataclass(frozen=True)
class LoadedModel:
    estimator: Any
    sha256: str  # of the bytes the model was loaded from


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_model(
    data: bytes,
    model_format: str,
    *,
    sha256: str | None = None,
    trusted_types: Sequence[str] = (),
    uri: str = "model",
) -> LoadedModel:
    """Deserialise `data`; raise ModelError when the pin or the trusted types say no."""
    digest = sha256_of(data)
    if sha256 is not None and digest != sha256.lower():
        # Checked for every format, and before any deserialisation.
        raise ModelError(
            f"model.sha256: {uri} has SHA-256 {digest}, not the pinned {sha256.lower()}; "
            "refusing to load it"
        )
    if model_format == "skops":
        if trusted_types and sha256 is None:
            # The contract requires the pin then (config.models.trusted_type_problems); guard.
            raise ModelError("model.sha256: required when model.trusted_types is set")
        estimator = _load_skops(data, trusted_types, uri)
    elif sha256 is None:
        # The contract requires the pin for these formats; guard anyway, loading runs code.
        raise ModelError(f"model.sha256: required to load a {model_format} model")
    else:
        estimator = _load_pickled(data, model_format, uri)
    return LoadedModel(estimator, digest)


def load_configured_model(model: ModelSpec, model_format: str) -> LoadedModel:
    """Read a config's model (S3 or local) and load it: the pin, then the trusted types. The
    batch job (job.runner) and the real-time endpoint (job.endpoint) both load theirs here."""
    return load_model(
        read_bytes(model.uri),
        model_format,
        sha256=model.sha256,
        trusted_types=model.trusted_types or (),
        uri=model.uri,
    )


def _load_skops(data: bytes, trusted_types: Sequence[str], uri: str) -> Any:
    try:
        found = sio.get_untrusted_types(data=data)
    except Exception as exc:  # skops raises many kinds on a corrupt file
        raise ModelError(f"model.uri: {uri} is not a readable skops file ({exc})") from exc
    # By name first, importing nothing the file names: a file that needs a system function is
    # refused whatever the config trusts, and the message says so rather than inviting a paste.
    reaching = sorted(name for name in found if denied_prefix(name))
    if reaching:
        raise ModelError(
            f"model.uri: {uri} asks to call {', '.join(reaching)} while loading; these reach the "
            "system (commands, code, files or the network) and cannot be trusted, so this file "
            "must not be loaded: ask whoever made it for a plain scikit-learn model"
        )
    untrusted = sorted(set(found) - set(trusted_types))
    if untrusted:
        raise ModelError(
            f"model.trusted_types: {uri} needs types beyond skops' defaults: "
            f"{', '.join(untrusted)}. Trusting a type lets the file build or call it while "
            "loading: add only classes you know your model is made of (for example a "
            "HistGradientBoosting model's TreePredictor), never functions you do not know, and "
            "pin the file with model.sha256 (docs/job.md)"
        )
    for name in found:  # all trusted by the config: what each really is, before skops calls it
        _refuse_reaching_the_system(name)
    try:
        return sio.loads(data, trusted=list(found) or None)
    except Exception as exc:
        raise ModelError(f"model.uri: cannot load {uri} ({type(exc).__name__}: {exc})") from exc


def _refuse_reaching_the_system(name: str) -> None:
    """Refuse a trusted name that is a re-export of a system function or type (a module may hold
    `os.makedirs` under its own name): judge the object by the module that defines it. skops
    would import the same module to load the file."""
    target = pydoc.locate(name)
    if target is None:
        return  # skops cannot find it either, and fails to load
    module = getattr(target, "__module__", None) if not inspect.ismodule(target) else name
    qualified = f"{module}.{getattr(target, '__qualname__', '')}".rstrip(".")
    # By the qualified name (`os.makedirs`): a denied module's names fall under its prefix too,
    # and an allowed name (config.trust.ALLOWED_NAMES) stays allowed.
    if not isinstance(module, str) or denied_prefix(qualified):
        raise ModelError(
            f"model.trusted_types: {name} is {qualified}, which reaches the system (commands, "
            "code, files or the network) and cannot be trusted"
        )


def _load_pickled(data: bytes, model_format: str, uri: str) -> Any:
    try:
        if model_format == "joblib":
            import joblib  # scikit-learn's own dependency; imported only when needed

            return joblib.load(io.BytesIO(data))
        return pickle.loads(data)
    except Exception as exc:  # unpickling can raise anything
        raise ModelError(f"model.uri: cannot load {uri} ({type(exc).__name__}: {exc})") from exc


@dataclass(frozen=True)
class Columns:
    """What the job reads from each input batch and writes with each prediction."""

    features: tuple[str, ...]  # in the order the model was fitted with
    passthrough: tuple[str, ...]

    @property
    def to_read(self) -> list[str]:
        return list(dict.fromkeys(self.features + self.passthrough))


def resolve_columns(
    estimator: Any,
    available: Sequence[str],
    *,
    features: Sequence[str] | None,
    passthrough: Sequence[str],
) -> Columns:
    """Match the input's columns to the model; raise InputError naming every missing or extra one.

    Without `features` in the config, every column not passed through is a feature. With
    `feature_names_in_` on the model, features are taken by name in the fitted order, and input
    columns it does not know are ignored (listed in `input.features`, they are an error).
    """
    present = set(available)
    missing_passthrough = [c for c in passthrough if c not in present]
    if missing_passthrough:
        raise InputError(
            f"output.passthrough: column(s) not in the input: {', '.join(missing_passthrough)}"
        )
    chosen = (
        list(features) if features is not None else [c for c in available if c not in passthrough]
    )
    where = "input.features" if features is not None else "input"
    missing_chosen = [c for c in chosen if c not in present]
    if missing_chosen:
        raise InputError(f"input.features: column(s) not in the input: {', '.join(missing_chosen)}")

    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is not None:
        fitted = [str(name) for name in fitted]
        missing = [c for c in fitted if c not in chosen]
        # Columns the model does not know are ignored (a table has more columns than a model
        # uses), unless the config listed them as features: then the config is wrong.
        extra = [c for c in chosen if c not in set(fitted)] if features is not None else []
        problems = []
        if missing:
            problems.append(f"missing feature(s) the model was fitted with: {', '.join(missing)}")
        if extra:
            problems.append(f"extra column(s) the model does not know: {', '.join(extra)}")
        if problems:
            raise InputError(f"{where}: {'; '.join(problems)}")
        return Columns(tuple(fitted), tuple(passthrough))

    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and expected != len(chosen):
        raise InputError(
            f"{where}: the model expects {expected} features, the input gives {len(chosen)} "
            f"({', '.join(chosen)})"
        )
    return Columns(tuple(chosen), tuple(passthrough))


def output_names(estimator: Any, method: str) -> list[str]:
    """The prediction columns: `prediction`, or `proba_<class>` per class for predict_proba."""
    if not callable(getattr(estimator, method, None)):
        raise ModelError(f"output.predict: the model has no {method}()")
    if method == "predict":
        return ["prediction"]
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise ModelError("output.predict: predict_proba needs a classifier with classes_")
    return [f"proba_{label}" for label in np.asarray(classes).tolist()]
