"""Bad input: every case ends with exit code 2 and a message naming the problem and the value seen.

All of these fail while reading the task, the options or the data, before planning, sandbox work or
optimization (an autouse fixture makes any later stage fail the test loudly instead of running).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result

from t2ml.agents.messages import TaskSpec
from t2ml.errors import DataError
from t2ml.orchestrator.intake import read_table
from t2ml.orchestrator.profile import build_profile
from t2ml.orchestrator.runner import Run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TITANIC = EXAMPLES / "titanic" / "train.csv"
TASK = "Predict which passengers survived the Titanic"


@pytest.fixture(autouse=True)
def no_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad input must be caught while profiling: reaching the planner is a failure, not a slow test."""
    async def started(self: Run, *args: object) -> None:
        raise AssertionError("the pipeline started: the bad input was not caught")

    monkeypatch.setattr(Run, "stage_plan", started)


def assert_bad_input(result: Result, *expected: str) -> None:
    out = result.output
    assert result.exit_code == 2, out
    assert isinstance(result.exception, SystemExit), out
    assert "Traceback" not in out and "internal error" not in out, out
    assert "error:" in out and "hint:" in out, out
    for text in expected:
        assert text in out, f"{text!r} not in the output:\n{out}"


def titanic_rows(n: int = 60) -> pd.DataFrame:
    return pd.read_csv(TITANIC).head(n)


# -- the training file itself ---------------------------------------------------------------------

def _missing(tmp: Path) -> Path:
    return tmp / "no_such_file.csv"


def _folder(tmp: Path) -> Path:
    (tmp / "a_folder.csv").mkdir()
    return tmp / "a_folder.csv"


def _empty(tmp: Path) -> Path:
    (tmp / "empty.csv").write_bytes(b"")
    return tmp / "empty.csv"


def _header_only(tmp: Path) -> Path:
    (tmp / "header_only.csv").write_text(TITANIC.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    return tmp / "header_only.csv"


@pytest.mark.parametrize("make, expected", [
    (_missing, ["training file not found"]),
    (_folder, ["training path is a folder, not a file"]),
    (_empty, ["training file is empty (0 bytes)"]),
    (_header_only, ["training file has a header but no data rows", "'survived'", "'passengerClass'"]),
], ids=["missing", "folder", "empty", "header-only"])
def test_unusable_training_file(run_cli, tmp_path, make, expected):
    path = make(tmp_path)
    assert_bad_input(run_cli(TASK, "--data", path), *expected, path.name)


def test_path_with_brackets_is_shown_verbatim(run_cli, tmp_path):
    """User values reach the terminal as text, not as rich markup (`[old]` used to vanish)."""
    path = tmp_path / "[old]" / "train.csv"
    assert_bad_input(run_cli(TASK, "--data", path), "training file not found", "[old]/train.csv")


def test_binary_file_is_not_utf8(run_cli, tmp_path):
    rnd = random.Random(0)
    raw = bytes(rnd.randrange(256) for _ in range(4096)) + b"\x00\x00\x00"
    path = tmp_path / "binary.csv"
    path.write_bytes(raw)
    first_bad = next(i for i in range(len(raw)) if raw[i] >= 0x80)  # random bytes: the first non-ASCII one fails
    assert_bad_input(run_cli(TASK, "--data", path), "training file is not UTF-8 text", path.name,
                     f"byte 0x{raw[first_bad]:02x} at offset {first_bad}", "binary file")


def test_duplicate_column_names(run_cli, tmp_path):
    frame = titanic_rows()
    path = tmp_path / "dupes.csv"
    frame.to_csv(path, index=False, header=["name", "survived", "sex", "age", "sex"])
    assert_bad_input(run_cli(TASK, "--data", path), "duplicate column names: ['sex']")


def test_rejected_input_leaves_no_run_folder_behind(run_cli, tmp_path):
    """A run refused at intake removes the folder it had just created, so the name stays free."""
    assert_bad_input(run_cli(TASK, "--data", TITANIC, "--target", "nope", "--name", "again"), "'nope'")
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir())
    assert_bad_input(run_cli(TASK, "--data", TITANIC, "--target", "nope", "--name", "again"), "'nope'")


# -- the target -----------------------------------------------------------------------------------

@pytest.mark.parametrize("given", ["Survived", "survive"])
def test_unknown_target_suggests_the_close_name(run_cli, given):
    assert_bad_input(run_cli(TASK, "--data", TITANIC, "--target", given),
                     f"target column {given!r} not found in the training file", "did you mean ['survived']")


def test_unknown_target_with_brackets_is_shown_verbatim(run_cli):
    assert_bad_input(run_cli(TASK, "--data", TITANIC, "--target", "[bold]x"), "target column '[bold]x' not found")


@pytest.mark.parametrize("flags", [[], ["--target", "survived"]], ids=["inferred", "given"])
def test_target_with_a_single_class(run_cli, tmp_path, flags):
    """The text names `survived`; that it is constant must not make t2ml pick another column."""
    frame = titanic_rows().assign(survived="yes")
    path = tmp_path / "all_yes.csv"
    frame.to_csv(path, index=False)
    assert_bad_input(run_cli(TASK, "--data", path, *flags),
                     "target column 'survived' has a single class ('yes') in 60 rows", "at least two classes")


@pytest.mark.parametrize("task, expected", [
    ("do machine learning", ["could not tell the target column from the task description", "pass --target"]),
    ("Predict sex or age", ["the task description fits several target columns", "'sex'", "'age'", "pass --target"]),
], ids=["absent", "ambiguous"])
def test_target_not_clear_from_the_text_lists_candidates(run_cli, task, expected):
    result = run_cli(task, "--data", TITANIC)
    assert_bad_input(result, *expected)
    if "could not tell" in expected[0]:
        for column in ("name", "survived", "sex", "age", "passengerClass"):
            assert repr(column) in result.output


# -- the test file --------------------------------------------------------------------------------

def test_test_file_with_other_columns_names_the_missing_ones(run_cli, tmp_path):
    test = titanic_rows(20).drop(columns=["survived", "age"]).rename(columns={"sex": "gender"})
    path = tmp_path / "test.csv"
    test.to_csv(path, index=False)
    result = run_cli(TASK, "--data", TITANIC, "--test", path)
    assert_bad_input(result, "the test file lacks columns the training file has: ['sex', 'age']",
                     "it has columns training does not: ['gender']", "--drop sex --drop age")


def test_missing_test_file(run_cli, tmp_path):
    path = tmp_path / "no_test.csv"
    assert_bad_input(run_cli(TASK, "--data", TITANIC, "--test", path), "test file not found", path.name)


# -- options and the task -------------------------------------------------------------------------

@pytest.mark.parametrize("flags, expected", [
    (["--metric", "precision"], ["unknown metric 'precision'", "roc_auc"]),
    (["--metric", "rmse"], ["metric 'rmse' does not fit a classification task", "roc_auc"]),
    (["--time-budget", "soon"], ["cannot read the time budget 'soon'", "5m"]),
    (["--time-budget", "5s"], ["time budget 5s is too short"]),
    (["--time-budget", "2 hours 3"], ["cannot read the time budget '2 hours 3'", "needs its unit"]),
    (["--time-budget", "-5"], ["the time budget must be positive, got '-5'"]),
    (["--trials", "0"], ["--trials must be at least 1, got 0"]),
    (["--folds", "1"], ["--folds must be between 2 and 20, got 1"]),
], ids=["unknown-metric", "regression-metric", "budget-word", "budget-short", "budget-unitless-tail", "budget-negative",
        "trials", "folds"])
def test_bad_option(run_cli, flags, expected):
    assert_bad_input(run_cli(TASK, "--data", TITANIC, *flags), *expected)


def test_task_file_that_does_not_exist(run_cli, tmp_path):
    path = tmp_path / "no_task.md"
    assert_bad_input(run_cli(path, "--data", TITANIC), "task file not found", path.name)


# -- run folders ----------------------------------------------------------------------------------

def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_existing_run_folder_is_left_untouched(run_cli, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    existing = runs / "X"
    existing.mkdir(parents=True)
    (existing / "sentinel.txt").write_bytes(b"first run \x00\xff keep me\n")
    (existing / "run.json").write_text(json.dumps({"config": {"note": "first run"}}), encoding="utf-8")
    before = _snapshot(existing)

    def no_work(self: Run, *args: object) -> None:
        raise AssertionError("work started for a run whose folder already exists")

    monkeypatch.setattr(Run, "__init__", no_work)
    result = run_cli(TASK, "--data", TITANIC, "--name", "X", "--out", runs)
    assert_bad_input(result, "run folder already exists", str(existing), "--resume")
    assert _snapshot(existing) == before
    assert sorted(p.name for p in runs.iterdir()) == ["X"]


@pytest.mark.parametrize("make", [
    lambda tmp: tmp,  # an empty folder
    lambda tmp: TITANIC.parent,  # a folder with data but no run.json
    lambda tmp: tmp / "no_such_run",
], ids=["empty-folder", "data-folder", "missing"])
def test_resume_on_something_that_is_not_a_run_folder(run_cli, tmp_path, make):
    folder = make(tmp_path)
    assert_bad_input(run_cli("--resume", folder), "not a t2ml run folder (no run.json)", str(folder))


def test_resume_refuses_settings_it_would_ignore(run_cli, tmp_path):
    assert_bad_input(run_cli("--resume", tmp_path, "--data", TITANIC, "--metric", "f1"),
                     "--data, --metric cannot change", "--time-budget, --trials")


def test_drop_of_an_unknown_column_is_refused(run_cli):
    assert_bad_input(run_cli(TASK, "--data", TITANIC, "--drop", "nope"), "--drop names columns", "'nope'")


def test_drop_of_the_target_is_refused(run_cli):
    assert_bad_input(run_cli(TASK, "--data", TITANIC, "--target", "survived", "--drop", "survived"),
                     "--drop leaves out 'survived', the column to predict")


def test_out_that_is_a_file_is_refused_and_left_alone(run_cli, tmp_path):
    data = tmp_path / "train.csv"
    data.write_bytes(TITANIC.read_bytes())
    assert_bad_input(run_cli(TASK, "--data", data, "--out", data), "--out must be a folder", str(data))
    assert data.read_bytes() == TITANIC.read_bytes()


@pytest.mark.parametrize("name", ["../outside", "a/b", ".."])
def test_name_with_a_path_is_refused(run_cli, tmp_path, name):
    assert_bad_input(run_cli(TASK, "--data", TITANIC, "--out", tmp_path / "runs", "--name", name),
                     "--name must be a plain folder name", repr(name))
    assert not (tmp_path / "outside").exists()


# -- profile level: accepted with a note ----------------------------------------------------------

def test_rows_with_missing_target_are_dropped_and_counted(tmp_path):
    frame = titanic_rows(200)
    frame.loc[[3, 17, 42, 99], "survived"] = None
    path = tmp_path / "some_missing.csv"
    frame.to_csv(path, index=False)
    profile = build_profile(read_table(path), TaskSpec(text=TASK, train_path=str(path)))
    assert profile.target == "survived"
    assert profile.rows_missing_target == 4
    assert profile.n_rows == 196
    assert sum(profile.class_counts.values()) == 196
    assert "4 rows with a missing target were dropped" in profile.notes


def test_latin1_file_is_read_with_a_note(tmp_path):
    frame = titanic_rows()
    frame.loc[0, "name"] = "Zoë, Miss. Anna"
    frame.loc[1, "name"] = "Müller, Mr. Hans"
    path = tmp_path / "latin1.csv"
    frame.to_csv(path, index=False, encoding="latin-1")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    table = read_table(path)
    assert table.frame.loc[0, "name"] == "Zoë, Miss. Anna"
    profile = build_profile(table, TaskSpec(text=TASK, train_path=str(path)))
    assert profile.target == "survived" and profile.n_rows == 60
    assert profile.encoding not in ("utf-8", "utf-8-sig")
    assert any(n.startswith("training file is not UTF-8; read it as ") and profile.encoding in n for n in profile.notes)


def test_constant_numeric_target_is_an_error(tmp_path):
    frame = pd.DataFrame({"size": [float(i % 7) for i in range(50)], "price": [3.5] * 50})
    table = read_table(_write(frame, tmp_path / "constant.csv"))
    with pytest.raises(DataError, match=r"target column 'price' has a single value \(3\.5\) in 50 rows"):
        build_profile(table, TaskSpec(text="Predict the price", train_path="constant.csv"))


def test_empty_target_named_by_the_text_is_an_error(tmp_path):
    frame = titanic_rows().assign(survived=None)
    table = read_table(_write(frame, tmp_path / "no_target_values.csv"))
    with pytest.raises(DataError, match="target column 'survived' has no values"):
        build_profile(table, TaskSpec(text=TASK, train_path="no_target_values.csv"))


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path
