"""Data intake: delimiters, Parquet, datetime columns; what the program later reads the same way."""
from __future__ import annotations

import pandas as pd

from t2ml.agents.messages import TaskSpec
from t2ml.orchestrator.intake import read_table
from t2ml.orchestrator.profile import build_profile
from t2ml.templates.program import runtime

TASK = "Predict which passengers survived the Titanic"


def profile_of(path):
    table = read_table(path)
    return table, build_profile(table, TaskSpec(text=TASK, train_path=str(path)))


def test_tsv_and_semicolon_files_are_detected(tmp_path, titanic):
    frame = pd.read_csv(titanic["train"])
    for name, sep in (("t.tsv", "\t"), ("t.txt", ";"), ("p.csv", "|")):
        frame.to_csv(tmp_path / name, sep=sep, index=False)
        table, profile = profile_of(tmp_path / name)
        assert table.sep == sep and list(table.frame.columns) == list(frame.columns)
        X, y = runtime.load_training(tmp_path / name, profile.program_config(5, 0))
        assert len(X) == len(frame) and set(y) == {0, 1}


def test_parquet_is_read(tmp_path, titanic):
    pd.read_csv(titanic["train"]).to_parquet(tmp_path / "t.parquet")
    table, profile = profile_of(tmp_path / "t.parquet")
    assert table.file_format == "parquet" and profile.target == "survived"
    X, _ = runtime.load_training(tmp_path / "t.parquet", profile.program_config(5, 0))
    assert list(X.columns) == ["name", "sex", "age", "passengerClass"]


def test_datetime_columns_become_parts_and_ids_and_constants_are_excluded(tmp_path, titanic):
    frame = pd.read_csv(titanic["train"])
    frame.insert(0, "passenger_id", range(1000, 1000 + len(frame)))
    frame["boarded"] = pd.date_range("1912-04-01", periods=len(frame), freq="h").astype(str)
    frame["ship"] = "Titanic"
    frame.to_csv(tmp_path / "d.csv", index=False)
    _, profile = profile_of(tmp_path / "d.csv")
    assert profile.datetime_columns == ["boarded"]
    assert set(profile.dropped_columns) == {"passenger_id", "ship"} and profile.id_column == "passenger_id"
    X, _ = runtime.load_training(tmp_path / "d.csv", profile.program_config(5, 0))
    assert {"boarded__year", "boarded__month", "boarded__dayofweek", "boarded__hour"} <= set(X.columns)
    assert "boarded" not in X.columns and "ship" not in X.columns and "passenger_id" not in X.columns
    assert X["boarded__month"].min() == 4
