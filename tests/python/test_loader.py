"""lrlab.load and lrlab.read_safetensors against a results folder made by the real binary
(tests/python/run_python_tests.sh sets LRLAB_RESULTS and LRLAB_PEFT)."""

import json
import math
import os
import unittest

import numpy as np

import lrlab

RESULTS = os.environ.get("LRLAB_RESULTS", "")
PEFT = os.environ.get("LRLAB_PEFT", "")


def has_pandas():
    try:
        import pandas  # noqa: F401

        return True
    except ImportError:
        return False


@unittest.skipUnless(RESULTS, "LRLAB_RESULTS not set (run through run_python_tests.sh)")
class LoaderTest(unittest.TestCase):
    def test_runs_joined_with_flattened_swept_values(self):
        study = lrlab.load(RESULTS, pandas=False)
        runs = study.runs
        self.assertEqual(len(runs), 8)  # 2 adapters x 2 dimensions x 2 seeds
        self.assertEqual(study.swept, ["adapter.type", "adapter.rank", "adapter.alpha", "base.d"])
        self.assertNotIn("adapter", runs.columns)  # the YAML cell became columns
        self.assertEqual(list(runs["adapter.type"][:4]), ["rank1"] * 4)
        self.assertEqual(list(runs["adapter.type"][4:]), ["lora"] * 4)
        self.assertTrue(math.isnan(runs["adapter.rank"][0]))  # rank1 has no rank
        self.assertEqual(runs["adapter.rank"][4], 2)
        self.assertEqual(list(runs["base.d"]), [8, 8, 16, 16, 8, 8, 16, 16])
        self.assertEqual(runs["base.d"].dtype, np.int64)
        self.assertEqual(list(runs["status"]), ["ok"] * 8)

    def test_curves_long_and_wide_agree(self):
        study = lrlab.load(RESULTS, pandas=False)
        long, wide = study.curves, study.curves_wide
        self.assertEqual(set(long["metric"]), {"overlap", "delta_error"})
        self.assertEqual(len(wide), len(long) // 2)  # two metrics per (run, step)
        self.assertIn(0, list(wide["step"]))  # step 0, the initialisation, is recorded
        first = [i for i in range(len(long)) if long["run"][i] == "p002_s00" and long["metric"][i] == "overlap"]
        rows = [i for i in range(len(wide)) if wide["run"][i] == "p002_s00"]
        np.testing.assert_array_equal(long["value"][first], wide["overlap"][rows])
        self.assertEqual(set(wide["adapter.type"][rows]), {"lora"})  # swept values joined

    def test_summary_and_fits(self):
        study = lrlab.load(RESULTS, pandas=False)
        self.assertGreater(len(study.summary), 0)
        self.assertEqual(len(study.fits), 2)  # one fit per adapter (by: [adapter])
        self.assertTrue(np.all(np.isfinite(study.fits["slope"])))

    @unittest.skipUnless(has_pandas(), "pandas not installed")
    def test_pandas_frames_match_the_tables(self):
        frames, tables = lrlab.load(RESULTS), lrlab.load(RESULTS, pandas=False)
        self.assertEqual(list(frames.runs.columns), tables.runs.columns)
        wide = frames.curves_wide.pivot_table(index="step", columns="run", values="delta_error")
        self.assertEqual(wide.shape[1], 8)
        self.assertAlmostEqual(frames.runs["final_delta_error"].sum(), float(np.sum(tables.runs["final_delta_error"])))

    def test_read_safetensors(self):
        tensors = lrlab.load(RESULTS, pandas=False).tensors("p002_s00")
        self.assertEqual(tensors["adapter.A"].shape, (2, 8))
        self.assertEqual(tensors["adapter.B"].shape, (2, 2))
        self.assertEqual(tensors["student.W"].dtype, np.float64)
        delta = tensors["student.W"] - tensors["base.W"]
        np.testing.assert_allclose(2.0 / 2 * tensors["adapter.B"] @ tensors["adapter.A"], delta, atol=1e-12)
        meta = lrlab.read_safetensors_metadata(os.path.join(RESULTS, "tensors", "p002_s00.safetensors"))
        self.assertEqual(meta["adapter.type"], "lora")
        self.assertEqual(meta["run"], "p002_s00")


@unittest.skipUnless(PEFT, "LRLAB_PEFT not set (run through run_python_tests.sh)")
class PeftExportTest(unittest.TestCase):
    def test_layout_reproduces_the_run(self):
        with open(os.path.join(PEFT, "adapter_config.json")) as f:
            config = json.load(f)
        self.assertEqual(config["peft_type"], "LORA")
        self.assertEqual(config["target_modules"], ["fc1"])
        self.assertEqual((config["r"], config["lora_alpha"], config["use_rslora"]), (2, 2.0, False))
        weights = lrlab.read_safetensors(os.path.join(PEFT, "adapter_model.safetensors"))
        self.assertEqual(sorted(weights), ["base_model.model.fc1.lora_A.weight", "base_model.model.fc1.lora_B.weight"])
        a, b = weights["base_model.model.fc1.lora_A.weight"], weights["base_model.model.fc1.lora_B.weight"]
        self.assertEqual((a.shape, b.shape), ((2, 8), (2, 2)))
        run = lrlab.read_safetensors(os.path.join(RESULTS, "tensors", "p002_s00.safetensors"))
        scaling = config["lora_alpha"] / config["r"]
        np.testing.assert_allclose(scaling * b @ a, run["student.W"] - run["base.W"], atol=1e-12)


class FlowYamlTest(unittest.TestCase):
    def test_cells(self):
        self.assertEqual(lrlab.parse_flow("{type: lora, rank: 2, init: {a: [1, 2.5]}}"),
                         {"type": "lora", "rank": 2, "init": {"a": [1, 2.5]}})
        self.assertEqual(lrlab.parse_flow("'a, b'"), "a, b")
        self.assertIs(lrlab.parse_flow("false"), False)


if __name__ == "__main__":
    unittest.main()
