"""Target, problem kind, metric and column-kind inference (orchestrator/task.py and profile.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from t2ml.agents.messages import DataProfile, TaskSpec
from t2ml.errors import ConfigError, DataError
from t2ml.orchestrator.intake import Table, read_table
from t2ml.orchestrator.profile import build_profile
from t2ml.orchestrator.task import infer_target, infer_task, order_classes, resolve_metric

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TITANIC = EXAMPLES / "titanic" / "train.csv"
CREDIT = EXAMPLES / "credit" / "train.csv"


def profile_of(path: Path, text: str, **spec: object) -> DataProfile:
    return build_profile(read_table(path), TaskSpec(text=text, train_path=str(path), **spec))


def profile_frame(frame: pd.DataFrame, text: str) -> DataProfile:
    return build_profile(Table(frame, Path("synthetic.csv"), "csv"), TaskSpec(text=text, train_path="synthetic.csv"))


@pytest.fixture(scope="module")
def titanic() -> DataProfile:
    return profile_of(TITANIC, "Predict which passengers survived the Titanic")


@pytest.fixture(scope="module")
def credit() -> DataProfile:
    return profile_of(CREDIT, (EXAMPLES / "credit" / "task.md").read_text(encoding="utf-8"))


# -- the bundled examples -------------------------------------------------------------------------

def test_titanic_target_kind_metric_and_classes(titanic):
    assert titanic.target == "survived"
    assert titanic.task == "binary"
    assert titanic.metric == "roc_auc"
    assert titanic.classes == ["no", "yes"]  # the positive class comes last
    assert set(titanic.class_counts) == {"no", "yes"}
    assert titanic.rows_missing_target == 0 and titanic.notes == []


def test_titanic_name_is_profiled_as_text_and_kept(titanic):
    kinds = {c.name: c.kind for c in titanic.columns}
    assert kinds["name"] == "text"
    assert kinds["sex"] == kinds["passengerClass"] == "categorical"
    assert kinds["age"] == "numeric"
    assert "name" in [c.name for c in titanic.features()]
    assert titanic.dropped_columns == {}


def test_credit_target_from_the_task_file(credit):
    assert credit.target == "Status"
    assert credit.task == "binary"
    assert credit.metric == "roc_auc"  # "Optimize ROC AUC."
    assert credit.classes == ["good", "bad"]  # no yes/no labels: the minority class is the positive one
    assert credit.class_counts["bad"] < credit.class_counts["good"]


def test_credit_id_is_excluded_as_an_identifier(credit):
    kinds = {c.name: c.kind for c in credit.columns}
    assert kinds["id"] == "id"
    assert credit.id_column == "id"
    assert "id" in credit.dropped_columns and "identifier" in credit.dropped_columns["id"]
    features = [c.name for c in credit.features()]
    assert "id" not in features and "Status" not in features
    assert "Income" in features and "Price" in features


def test_explicit_target_and_metric_win_over_the_text():
    profile = profile_of(TITANIC, "Predict which passengers survived the Titanic; optimize ROC AUC",
                         target="sex", metric="accuracy")
    assert (profile.target, profile.task, profile.metric) == ("sex", "binary", "accuracy")


# -- target inference -----------------------------------------------------------------------------

FRAME = pd.DataFrame({"name": ["a"], "survived": ["no"], "sex": ["f"], "age": [1.0], "passengerClass": ["1st"]})


@pytest.mark.parametrize("text, target", [
    ("Predict which passengers survived the Titanic", "survived"),
    ("Predict who survived", "survived"),
    ("Estimate the age of each passenger from their name and class", "age"),
    ("Classify passengers by passenger class", "passengerClass"),
    ("Which column? Use `sex`.", "sex"),
])
def test_target_from_text(text, target):
    assert infer_target(FRAME, text, None, set()) == target


def test_excluded_columns_are_not_target_candidates():
    with pytest.raises(DataError, match="could not tell the target column") as info:
        infer_target(FRAME, "Predict who survived", None, {"survived"})
    assert "'survived'" not in str(info.value) and "'passengerClass'" in str(info.value)


# -- problem kind ---------------------------------------------------------------------------------

def test_numeric_target_with_many_values_is_regression():
    rng = np.random.default_rng(0)
    assert infer_task(pd.Series(rng.normal(100, 15, 300)), "Predict the score") == "regression"
    assert infer_task(pd.Series(rng.integers(0, 1000, 300)), "Predict the count") == "regression"


def test_integer_target_with_three_values_is_multiclass():
    assert infer_task(pd.Series([0, 1, 2] * 40), "Predict the grade") == "multiclass"


def test_integer_target_with_two_values_is_binary():
    assert infer_task(pd.Series([0, 1] * 40), "Predict default") == "binary"


def test_regression_words_turn_few_integers_into_regression():
    assert infer_task(pd.Series([0, 1, 2] * 40), "Predict how many children") == "regression"


@pytest.mark.parametrize("values, kind", [(["a", "b"] * 10, "binary"), (["a", "b", "c"] * 10, "multiclass"),
                                          ([True, False] * 10, "binary")])
def test_non_numeric_targets_are_classification(values, kind):
    assert infer_task(pd.Series(values), "Predict it") == kind


def test_profile_kind_and_metric_for_synthetic_targets():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    regression = profile_frame(pd.DataFrame({"x": x, "price": 50 + 10 * x + rng.normal(size=200)}), "Predict the price")
    assert (regression.target, regression.task, regression.metric, regression.classes) == ("price", "regression", "rmse", [])
    assert regression.target_skew is not None
    multiclass = profile_frame(pd.DataFrame({"x": x, "grade": np.arange(200) % 3}), "Predict the grade")
    assert (multiclass.task, multiclass.metric, multiclass.classes) == ("multiclass", "accuracy", ["0", "1", "2"])


# -- class order ----------------------------------------------------------------------------------

@pytest.mark.parametrize("values, classes", [
    (["yes", "no", "no"], ["no", "yes"]),
    (["No", "Yes", "Yes"], ["No", "Yes"]),
    ([1, 0, 0], ["0", "1"]),
    ([True, False, False], ["False", "True"]),
    (["good", "good", "bad"], ["good", "bad"]),  # no positive label: the minority class is positive
    (["b", "a", "c", "a"], ["a", "b", "c"]),  # multiclass: sorted
])
def test_order_classes_puts_the_positive_class_last(values, classes):
    assert order_classes(pd.Series(values)) == classes


# -- metric ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, kind, metric", [
    ("Predict survival; optimize F1", "binary", "f1"),
    ("Predict the price and minimize RMSE", "regression", "rmse"),
    ("Predict the species; we care about accuracy", "multiclass", "accuracy"),
    ("Predict survival, report accuracy", "binary", "accuracy"),
    ("Predict survival with the best balanced accuracy", "binary", "balanced_accuracy"),
    ("Predict default; maximize the area under the ROC curve", "binary", "roc_auc"),
    ("Predict default; minimize log loss", "binary", "log_loss"),
    ("Predict the price; minimize the mean absolute error", "regression", "mae"),
    ("Predict the price and maximize R2", "regression", "r2"),
    ("Predict survival", "binary", "roc_auc"),  # defaults by kind
    ("Predict the species", "multiclass", "accuracy"),
    ("Predict the price", "regression", "rmse"),
    ("Predict survival and minimize RMSE", "binary", "roc_auc"),  # a metric word that does not fit: the default
])
def test_metric_from_text(text, kind, metric):
    assert resolve_metric(None, text, kind) == metric


@pytest.mark.parametrize("given, metric", [("AUC", "roc_auc"), ("roc-auc", "roc_auc"), ("logloss", "log_loss"),
                                           ("balanced accuracy", "balanced_accuracy"), ("F1", "f1")])
def test_metric_flag_aliases(given, metric):
    assert resolve_metric(given, "optimize RMSE", "binary") == metric  # the flag wins over the text


def test_metric_flag_that_does_not_fit_is_an_error():
    with pytest.raises(ConfigError, match="metric 'accuracy' does not fit a regression task"):
        resolve_metric("accuracy", "Predict the price", "regression")


def test_goal_phrased_by_an_outcome_value_finds_its_column():
    import pandas as pd

    from t2ml.orchestrator.task import infer_target

    credit = pd.read_csv(Path(__file__).resolve().parents[2] / "examples" / "credit" / "train.csv")
    assert infer_target(credit, "Predict whether the loan is good", None, {"id"}) == "Status"
