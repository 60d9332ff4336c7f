"""The comparison runner's tuning grids, its tuning and its run reuse.

(The runner itself, end to end, is run in ``test_recipe.py``.)

Authors
 * speechbrain-iusp developers 2026
"""

import json
import sys
import threading
from pathlib import Path

import pytest

from speechbrain_iusp.study import expand_grid

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "DCASE2019"
sys.path.insert(0, str(RECIPE))
import compare  # noqa: E402


@pytest.mark.parametrize("method", ["kd", "sp", "iusp"])
def test_tuning_grids_are_centred_on_the_shipped_defaults(method):
    defaults = compare.hparams_values(f"hparams/{method}.yaml")
    grid = compare.tuning_grid(method, defaults)
    key = compare.WEIGHT_KEYS[method]
    weights = grid[key]
    # the default weight is the middle one, so a bracketed choice is possible
    assert sorted(weights)[1] == defaults[key] and len(set(weights)) == 3
    combos = expand_grid(grid)
    assert len({json.dumps(c, sort_keys=True) for c in combos}) == len(combos)
    if method in compare.TAP_KEYS:
        taps = grid[compare.TAP_KEYS[method]]
        assert taps[0] == defaults[compare.TAP_KEYS[method]]
        assert len(set(taps)) == 2


def test_tuning_grid_refuses_a_default_it_cannot_centre_on():
    with pytest.raises(ValueError, match="'sp_weight' must be a positive"):
        compare.tuning_grid("sp", {"sp_weight": None, "sp_tap": "rnn"})
    with pytest.raises(ValueError, match="'iusp_tap' is 'conv9'"):
        compare.tuning_grid("iusp", {"iusp_weight": 1.0, "iusp_tap": "conv9"})


class FakePool:
    """Scores a tuning run from its overrides; records what it was given."""

    def __init__(self):
        self.checked, self.ran = [], []
        self.lock = threading.Lock()

    def check(self, jobs):
        self.checked.extend(jobs)

    def map(self, jobs):
        out = []
        for job in jobs:
            o = job["overrides"]
            with self.lock:
                self.ran.append(job)
            if "kd_weight" in o:  # best at the largest weight: not bracketed
                score = o["kd_weight"] / 1000
            elif "sp_weight" in o:  # best near 300, on the other tap
                score = -abs(o["sp_weight"] - 300.0) - (o["sp_tap"] != "rnn")
            else:  # best at the default weight on the default tap
                score = -abs(o["iusp_weight"] - 1000.0)
                score -= o["iusp_tap"] != "rnn"
            out.append({"validate": {"coarse": {"micro_auprc": score}}})
        return out


def test_tune_brackets_each_method_around_its_defaults():
    args = compare.parse_args(["--tune", "--max_extend=2"])[0]
    pool = FakePool()
    chosen, summary = compare.tune(args, pool)
    assert chosen["iusp"] == {"iusp_weight": 1000.0, "iusp_tap": "rnn"}
    assert summary["iusp"]["bracketed"]
    # SP: default 10 at conv3; the best is 100 on the other tap, the top of
    # the grid, so 1000 is tried there, which brackets it
    assert chosen["sp"] == {"sp_weight": 100.0, "sp_tap": "rnn"}
    assert summary["sp"]["bracketed"]
    assert summary["sp"]["trials"][-1]["overrides"] == {
        "sp_weight": 1000.0,
        "sp_tap": "rnn",
    }
    # KD keeps growing: two extensions, then reported as not bracketed
    assert chosen["kd"] == {"kd_weight": 64.0}
    assert not summary["kd"]["bracketed"]
    assert len(summary["kd"]["trials"]) == 3 + 2
    # every first-grid run was checked for reuse before any ran
    assert len(pool.checked) == 3 + 6 + 6
    names = [job["name"] for job in pool.ran]
    assert len(names) == len(set(names))
    first = pool.ran[0]["overrides"]
    assert first["student_size"] == "tiny" and first["seed"] == 100


def _finished_run(folder, overrides, precision="bf16"):
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text("{}")
    text = "\n".join(f"{k}: {v}" for k, v in overrides.items())
    info = {
        "hparams_file": str(RECIPE / "hparams" / "sp.yaml"),
        "overrides": text,
        "precision": precision,
    }
    (folder / "run_info.json").write_text(json.dumps(info))


def test_a_finished_run_is_reused_only_with_the_same_settings(tmp_path):
    overrides = {
        "student_size": "tiny",
        "seed": 1,
        "experiment_name": "sp_tiny",
        "sp_weight": 30.0,
    }
    folder = tmp_path / "sp_tiny" / "1"
    _finished_run(folder, {"output_root": "/elsewhere", **overrides})

    def cmd(hparams="hparams/sp.yaml", extra=(), **changes):
        return compare.train_command(
            hparams, {**overrides, **changes}, list(extra), tmp_path
        )

    # same settings (the output root may have moved): reused
    compare.check_reusable(folder, cmd())
    compare.check_reusable(folder, cmd(extra=["--precision=bf16"]))
    for bad, says in [
        (cmd(sp_weight=300.0), "sp_weight: 30.0 there, 300.0 now"),
        (cmd(number_of_epochs=3), "number_of_epochs: (default) there, 3"),
        (cmd(extra=["--precision=fp32"]), "precision: bf16 there, fp32 now"),
        (cmd(hparams="hparams/iusp.yaml"), "hparams file"),
    ]:
        with pytest.raises(RuntimeError, match="other settings") as err:
            compare.check_reusable(folder, bad)
        assert says in str(err.value) and "new --output_root" in str(err.value)
    (folder / "run_info.json").unlink()
    with pytest.raises(RuntimeError, match="without run_info.json"):
        compare.check_reusable(folder, cmd())


def test_the_relative_improvement_is_not_given_when_sp_does_not_help():
    key = "test_coarse_micro_auprc"

    def cells(base, sp, iusp):
        means = {"baseline": base, "sp": sp, "iusp": iusp}
        return {("tiny", m): {key: (v, 0.01)} for m, v in means.items()}

    undefined = {"ci_low": None, "ci_high": None, "p_sp_le_base": 1.0}
    text = compare.ratio_text(cells(0.40, 0.33, 0.41), undefined, "tiny")
    assert text.startswith("not defined: SP is not above the baseline (-0.07")
    res = {"ci_low": -0.1, "ci_high": 2.0, "p_sp_le_base": 0.07}
    text = compare.ratio_text(cells(0.40, 0.44, 0.46), res, "tiny")
    assert text.startswith("+0.50 [-0.10, +2.00]") and "in 7% of" in text
    text = compare.ratio_text(cells(0.40, 0.44, 0.46), None, "tiny")
    assert text == "+0.50 (no interval)"
    partial = cells(0.40, 0.44, 0.46)
    del partial[("tiny", "iusp")]
    assert compare.ratio_text(partial, None, "tiny").startswith("n/a")
