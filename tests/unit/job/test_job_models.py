"""Models load only when safe, and features are matched to the model by name."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest
import skops.io as sio
from support import jobdata

from job.exceptions import InputError, ModelError
from job.models import load_model, output_names, resolve_columns

LOADED: list[str] = []


class Tripwire:
    """Unpickling it records the fact: proof of whether deserialisation ran."""

    def __reduce__(self):
        return (LOADED.append, ("loaded",))


def test_changed_pickle_is_refused_before_it_is_loaded() -> None:
    # GIVEN a pin for one pickle, and a different pickle that runs code when loaded
    pinned = hashlib.sha256(pickle.dumps(jobdata.fit())).hexdigest()
    swapped = pickle.dumps(Tripwire())
    LOADED.clear()
    # WHEN the job loads the swapped bytes
    with pytest.raises(ModelError, match=r"model\.sha256: .* not the pinned"):
        load_model(swapped, "pickle", sha256=pinned)
    # THEN the bytes were never deserialised
    assert LOADED == []


@pytest.mark.parametrize("model_format", ["pickle", "joblib"])
def test_pinned_pickle_and_joblib_load(tmp_path: Path, model_format: str) -> None:
    path = tmp_path / ("m.pkl" if model_format == "pickle" else "m.joblib")
    digest = jobdata.save_model(jobdata.fit(), path)
    loaded = load_model(path.read_bytes(), model_format, sha256=digest.upper())
    assert loaded.sha256 == digest
    assert list(loaded.estimator.feature_names_in_) == jobdata.FEATURES


def test_pickle_without_pin_is_refused() -> None:
    with pytest.raises(ModelError, match=r"model\.sha256"):
        load_model(pickle.dumps(Tripwire()), "pickle")


def test_untrusted_skops_types_are_refused_and_listed() -> None:
    data = sio.dumps(jobdata.fit("hgb"))
    with pytest.raises(ModelError) as caught:
        load_model(data, "skops")
    assert "model.trusted_types" in str(caught.value)
    assert jobdata.HGB_TYPES[0] in str(caught.value)


def test_skops_types_trusted_by_the_config_load() -> None:
    data = sio.dumps(jobdata.fit("hgb"))
    pin = hashlib.sha256(data).hexdigest()
    loaded = load_model(data, "skops", sha256=pin, trusted_types=jobdata.HGB_TYPES)
    assert hasattr(loaded.estimator, "predict_proba")


def test_trusted_skops_types_need_the_pin() -> None:
    with pytest.raises(ModelError, match=r"model\.sha256"):
        load_model(sio.dumps(jobdata.fit("hgb")), "skops", trusted_types=jobdata.HGB_TYPES)


def test_a_corrupt_skops_file_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="not a readable skops file"):
        load_model(b"not a zip", "skops")


def test_features_follow_the_fitted_order_by_name() -> None:
    model = jobdata.fit()
    columns = resolve_columns(
        model, ["f3", "id", "f1", "f0", "f2"], features=None, passthrough=["id"]
    )
    assert columns.features == tuple(jobdata.FEATURES)
    assert columns.to_read == [*jobdata.FEATURES, "id"]


def test_missing_columns_are_named_and_unknown_ones_ignored() -> None:
    model = jobdata.fit()
    with pytest.raises(InputError) as caught:
        resolve_columns(model, ["id", "f0", "f1", "f2", "extra"], features=None, passthrough=["id"])
    assert str(caught.value) == "input: missing feature(s) the model was fitted with: f3"
    columns = resolve_columns(
        model, ["extra", *reversed(jobdata.FEATURES)], features=None, passthrough=[]
    )
    assert columns.features == tuple(jobdata.FEATURES)


def test_configured_features_the_model_does_not_know_are_named() -> None:
    with pytest.raises(InputError, match=r"extra column\(s\) the model does not know: extra"):
        resolve_columns(
            jobdata.fit(),
            [*jobdata.FEATURES, "extra"],
            features=[*jobdata.FEATURES, "extra"],
            passthrough=[],
        )


def test_configured_features_must_exist() -> None:
    with pytest.raises(InputError, match=r"input\.features: .*: nope"):
        resolve_columns(jobdata.fit(), ["f0"], features=["f0", "nope"], passthrough=[])


def test_missing_passthrough_is_named() -> None:
    with pytest.raises(InputError, match=r"output\.passthrough: .*: key"):
        resolve_columns(jobdata.fit(), jobdata.FEATURES, features=None, passthrough=["key"])


def test_model_without_names_checks_the_count() -> None:
    model = jobdata.fit()
    model.fit(jobdata.table(50).select(jobdata.FEATURES).to_pandas().to_numpy(), [0, 1] * 25)
    with pytest.raises(InputError, match="expects 4 features, the input gives 3"):
        resolve_columns(model, ["a", "b", "c"], features=None, passthrough=[])
    assert resolve_columns(model, ["d", "c", "b", "a"], features=None, passthrough=[]).features == (
        "d",
        "c",
        "b",
        "a",
    )


def test_output_columns() -> None:
    model = jobdata.fit()
    assert output_names(model, "predict") == ["prediction"]
    assert output_names(model, "predict_proba") == ["proba_0", "proba_1"]
