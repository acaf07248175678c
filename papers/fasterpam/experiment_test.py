"""End-to-end smoke test: train -> checkpoint -> resume (no repeated work) -> eval.json with the claims."""
import json
import os

from common import kmedoids_records as records_lib
from common import testing
from papers.fasterpam import experiment
from papers.fasterpam.configs import default

CLAIMS = ["fastpam1_equals_pam", "fasterpam_quality", "fasterpam_speedup", "pam_equals_kmedoids",
          "fasterpam_equals_kmedoids", "fasterpam_vs_kmedoids_random"]


def test_train_resume_evaluate(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path)
    first = experiment.train(config, workdir)
    assert os.path.isdir(os.path.join(workdir, "checkpoints"))
    _, units = experiment.plan(config)
    assert int(first.step) == len(units)
    lines = sum(1 for _ in open(os.path.join(workdir, "metrics.jsonl")))
    second = experiment.train(config, workdir)             # resumes: nothing left to do
    assert sum(1 for _ in open(os.path.join(workdir, "metrics.jsonl"))) == lines
    assert (second.medoids == first.medoids).all() and (second.loss == first.loss).all()
    saved = records_lib.load_clusterings(workdir)             # every record: medoids and labels in [0, k)
    assert list(saved) == experiment.plan(config)[0]
    assert all(labels.min() >= 0 and labels.max() < len(med) for med, labels in saved.values())
    record = experiment.evaluate(config, workdir)
    saved = json.load(open(os.path.join(workdir, "eval.json")))
    assert [c["name"] for c in saved["claims"]] == CLAIMS == [c["name"] for c in record["claims"]]
    by_name = {c["name"]: c for c in saved["claims"]}
    assert by_name["pam_equals_kmedoids"]["passed"] and by_name["fasterpam_equals_kmedoids"]["passed"]
    assert os.path.exists(os.path.join(workdir, "fasterpam_runtime.png"))


def test_bad_configs_fail_before_any_work(tmp_path):
    cases = (("smoke,exact_ks=(5,)", r"exact_ks=\(5,\) must be a subset of ks"),
             ("smoke,eager_ks=(4,)", r"eager_ks=\(4,\) must be a subset of ks"),
             ("smoke,repeats=0", "repeats=0 must be >= 1"),
             ("smoke,speed_k=60", r"speed_k=\(60,\) must be .* < n = 60"),
             ("smoke,ks=(100,),exact_ks=(100,),eager_ks=(100,)", r"ks=\(100,\) must be .* < n = 60"))
    testing.assert_refused_before_any_work((experiment.train, experiment.evaluate), default.get_config,
                                           cases, str(tmp_path / "run"))


def test_exactness_claims_compare_the_loss_at_the_precision_of_the_matrix():
    """float32 sums of the same medoids' distances differ in the last bits between implementations (6.4e-8
    relative measured for kmedoids.pam at k = 10 on digits); the claims allow n eps of the matrix dtype."""
    testing.assert_pam_equality_uses_matrix_precision(experiment, default.get_config("smoke"), {"loops": 100.0, "jax": 10.0})