"""The photo collections are found from wherever the checkout is: beside it, beside the checkout it was cloned
from, or where the environment says."""
import subprocess

from training.shared_data import ENV, shared_data


def test_found_beside_a_checkout_beside_the_one_it_was_cloned_from_and_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    work = tmp_path / "work"
    (work / "shared" / "data").mkdir(parents=True)
    main = work / "main"
    subprocess.run(["git", "init", "-q", str(main)], check=True)
    subprocess.run(["git", "-C", str(main), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "x"], check=True)
    assert shared_data(main) == work / "shared" / "data"                       # beside the checkout
    elsewhere = tmp_path / "ci" / "clone"
    subprocess.run(["git", "clone", "-q", str(main), str(elsewhere)], check=True)
    assert shared_data(elsewhere) == work / "shared" / "data"                  # beside where it was cloned from
    lonely = tmp_path / "lonely"
    subprocess.run(["git", "init", "-q", str(lonely)], check=True)
    assert shared_data(lonely) == tmp_path / "shared" / "data"                 # nothing: the usual place, to report
    monkeypatch.setenv(ENV, str(tmp_path / "mine"))
    assert shared_data(lonely) == tmp_path / "mine"
