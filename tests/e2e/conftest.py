"""Session fixture for the real-GIMP-3 end-to-end tests.

Builds (once, cached in /var/cache/colorcore-gimp3) a Debian trixie root with GIMP 3 via
scripts/gimp3/setup.sh, runs `python install.py` into a fresh GIMP profile inside it, and
gives the tests a way to run batch drivers in that GIMP.  Skipped, with the reason, where
it cannot run: not Linux, not root, no debootstrap/apt-get, no self-contained Python for the
engine venv, or COLORCORE_SKIP_GIMP_E2E=1.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("COLORCORE_GIMP3_CACHE", "/var/cache/colorcore-gimp3"))
PROCS = ["plug-in-colorize-auto", "plug-in-colorize-scribble", "plug-in-colorize-partial",
         "plug-in-colorize-reference"]
SYSTEM_PREFIXES = ("/usr", "/bin", "/lib", "/etc", "/sbin", "/opt/conda")


def pytest_configure(config):
    config.addinivalue_line("markers", "gimp_e2e: runs the plug-in in a real GIMP 3 (needs root + debootstrap)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).resolve().parent == HERE:
            item.add_marker(pytest.mark.gimp_e2e)


def self_contained_python():
    """A Python >= 3.11 whose install lives outside /usr (bind-mountable into the root at the same path)."""
    cands = []
    if os.environ.get("COLORCORE_E2E_PYTHON"):
        cands.append(os.environ["COLORCORE_E2E_PYTHON"])
    base = os.path.realpath(sys.base_prefix)
    cands.append(os.path.join(base, "bin", "python%d.%d" % sys.version_info[:2]))
    cands += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[1-9]*/bin/python3.1[1-9]")),
                    reverse=True)
    cands += sorted(glob.glob("/root/.pyenv/versions/3.1[1-9]*/bin/python3.1[1-9]"), reverse=True)
    for c in cands:
        if not c or not os.path.exists(c):
            continue
        try:
            out = subprocess.run([c, "-c", "import sys; print(sys.base_prefix); print(sys.version_info[:2] >= (3, 11))"],
                                 capture_output=True, text=True, timeout=60).stdout.split()
        except (OSError, subprocess.SubprocessError):
            continue
        if len(out) == 2 and out[1] == "True":
            prefix = os.path.realpath(out[0])
            if not prefix.startswith(SYSTEM_PREFIXES):
                return c, prefix
    return None, None


def skip_reason():
    if os.environ.get("COLORCORE_SKIP_GIMP_E2E"):
        return "COLORCORE_SKIP_GIMP_E2E is set"
    if not sys.platform.startswith("linux"):
        return "the GIMP 3 end-to-end tests need Linux (a debootstrap'd Debian trixie root)"
    if os.geteuid() != 0:
        return "the GIMP 3 end-to-end tests need root (debootstrap, chroot, mount); they run in CI as root"
    for tool in ("chroot", "mount", "unshare"):
        if not shutil.which(tool):
            return "the GIMP 3 end-to-end tests need `%s`" % tool
    if not shutil.which("debootstrap") and not shutil.which("apt-get") and not glob.glob(str(CACHE / "root-*")):
        return "no debootstrap (and no apt-get to install it): cannot build the GIMP 3 root"
    py, _ = self_contained_python()
    if py is None:
        return ("no self-contained Python >= 3.11 (e.g. pyenv) for the engine venv; a /usr Python cannot be "
                "bind-mounted into the GIMP root. Set COLORCORE_E2E_PYTHON")
    return None


class Gimp3:
    def __init__(self, root, profile, venv, base_py, base_prefix):
        self.root, self.profile, self.venv = root, profile, venv
        self.base_py, self.base_prefix = base_py, base_prefix
        self.engine_py = str(Path(venv) / "bin" / "python")
        self.plugin_dir = Path(root + profile) / "plug-ins" / "colorize"
        self.timings = {}

    def backends(self):
        with open(self.plugin_dir / "backends.json") as f:
            return json.load(f)

    def run_driver(self, driver, work, spec, extra_env=None, ui=False, xvfb=False, timeout=900):
        """Run a python-fu-eval driver inside GIMP; returns (rc, log, report or None)."""
        work = Path(work)
        (work / "out").mkdir(parents=True, exist_ok=True)
        spec = dict(spec, out=str(work / "out"), procedures=PROCS)
        (work / "spec.json").write_text(json.dumps(spec, indent=1))
        if Path(driver).resolve() != (work / Path(driver).name).resolve():
            shutil.copy(driver, work / Path(driver).name)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COLORIZE_", "E2E_"))}
        env.update({"E2E_SPEC": str(work / "spec.json"),
                    "COLORIZE_TIMING_LOG": str(work / "out" / "timing.jsonl"),
                    "GIMP_TIMEOUT": str(timeout)})
        if ui:
            env["GIMP_UI"] = "1"
        if xvfb:
            env["GIMP_XVFB"] = "1"
        env.update(extra_env or {})
        cmd = ["bash", str(REPO / "scripts" / "gimp3" / "run_gimp.sh"), self.root, self.profile,
               str(work / Path(driver).name), str(work), self.venv, self.base_prefix]
        # extra host folders the engine needs inside the root, e.g. the folder of $COLORCORE_GAN_WEIGHTS
        cmd += [d for d in os.environ.get("COLORCORE_E2E_BINDS", "").split(":") if d]
        t0 = time.time()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout + 60)
        log = proc.stdout + proc.stderr
        (work / "gimp.log").write_text(log)
        report = None
        if (work / "out" / "report.json").exists():
            report = json.loads((work / "out" / "report.json").read_text())
        self.timings[str(work.name)] = time.time() - t0
        return proc.returncode, log, report


@pytest.fixture(scope="session")
def gimp3():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    t0 = time.time()
    proc = subprocess.run(["bash", str(REPO / "scripts" / "gimp3" / "setup.sh")], capture_output=True,
                          text=True, timeout=1500)
    if proc.returncode != 0:
        pytest.fail("scripts/gimp3/setup.sh failed:\n" + (proc.stdout + proc.stderr)[-4000:])
    root = [l for l in proc.stdout.splitlines() if l.startswith("ROOT=")][-1][5:]
    t_setup = time.time() - t0
    base_py, base_prefix = self_contained_python()
    tag = os.path.basename(base_prefix)
    venv = str(CACHE / ("engine-venv-" + tag))
    profile = "/gimptest/e2e-%d" % os.getpid()
    host_profile = Path(root + profile)
    shutil.rmtree(host_profile, ignore_errors=True)
    shutil.copytree(Path(root) / "gimptest" / "profile-template", host_profile, symlinks=True)
    t1 = time.time()
    import fcntl
    lock = open(CACHE / ".install.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)   # two test sessions must not pip into the same venv at once
    # a home of its own: install.py links the CLI into ~/.local/bin and records itself under ~/.local/share,
    # which must not land in the home of whoever runs the tests (pip's settings come from /etc and the
    # environment, and the venv is cached, so nothing else depends on HOME)
    fake_home = host_profile / "home"
    fake_home.mkdir()
    inst_env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    inst_env["HOME"] = str(fake_home)
    inst = subprocess.run([base_py, str(REPO / "install.py"), "--venv", venv,
                           "--gimp-dir", str(host_profile / "plug-ins"), "--python", base_py],
                          capture_output=True, text=True, timeout=1500, cwd=str(REPO), env=inst_env)
    fcntl.flock(lock, fcntl.LOCK_UN)
    lock.close()
    t_install = time.time() - t1
    ctx = Gimp3(root, profile, venv, base_py, base_prefix)
    ctx.install_output = inst.stdout + inst.stderr
    ctx.install_rc = inst.returncode
    ctx.install_home = fake_home
    ctx.timings.update(setup_sh=t_setup, install_py=t_install)
    sys.stderr.write("\n[gimp3 e2e] setup.sh %.1f s, install.py %.1f s (rc %d)\n" % (t_setup, t_install,
                                                                                     inst.returncode))
    try:
        yield ctx
    finally:
        shutil.rmtree(host_profile, ignore_errors=True)
        sys.stderr.write("[gimp3 e2e] timings: %s\n" % json.dumps({k: round(v, 1) for k, v in ctx.timings.items()}))
