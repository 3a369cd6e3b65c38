#!/usr/bin/env python3
"""One-command installer of the Colorize GIMP 3 plug-in and its colorcore engine.

    python install.py              # engine venv + CLI + plug-in into every GIMP 3 found
    python install.py --check      # diagnose an installation
    python install.py --uninstall  # remove exactly what install.py installed

Standard library only; runs on any Python >= 3.9 (the engine venv itself needs the Python
that pyproject.toml asks for; a suitable one is searched for, or pass --python).
"""
import sys

if sys.version_info < (3, 9):
    sys.stderr.write("install.py needs Python 3.9 or newer; this is %d.%d (%s).\n"
                     "Install a newer Python (python.org, your package manager or pyenv) and run it again.\n"
                     % (sys.version_info[0], sys.version_info[1], sys.executable))
    sys.exit(2)

import argparse  # noqa: E402
import glob  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import stat  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN_SRC = os.path.join(HERE, "gimp_plugin", "colorize")
PROTOCOL_SRC = os.path.join(HERE, "colorcore", "protocol.py")   # copied beside the plug-in, byte for byte
WARM_SRC = os.path.join(HERE, "colorcore", "warm.py")           # the warm engine's client: copied the same way
PLUGIN_NAME = "colorize"
RECORD = "colorcore-install.json"       # inside the venv folder: what we installed
DEFAULT_TORCH = "torch==2.13.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
FLATPAK_ID = "org.gimp.GIMP"
IS_WIN = os.name == "nt"
IS_MAC = sys.platform == "darwin"


class InstallError(Exception):
    pass


def say(msg=""):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def step(msg):
    say("==> " + msg)


# ----------------------------------------------------------------------------- locations
def home():
    return os.path.expanduser("~")


def data_dir():
    if IS_WIN:
        return os.path.join(os.environ.get("LOCALAPPDATA") or os.path.join(home(), "AppData", "Local"), "colorcore")
    if IS_MAC:
        return os.path.join(home(), "Library", "Application Support", "colorcore")
    return os.path.join(os.environ.get("XDG_DATA_HOME") or os.path.join(home(), ".local", "share"), "colorcore")


def default_venv():
    return os.path.join(data_dir(), "engine-venv")


def venv_python(venv):
    return os.path.join(venv, "Scripts", "python.exe") if IS_WIN else os.path.join(venv, "bin", "python")


def venv_cli(venv):
    return os.path.join(venv, "Scripts", "colorcore.exe") if IS_WIN else os.path.join(venv, "bin", "colorcore")


def gimp_config_roots():
    """(kind, folder holding GIMP/<version>/ profiles) for every known packaging."""
    h = home()
    if IS_WIN:
        appdata = os.environ.get("APPDATA") or os.path.join(h, "AppData", "Roaming")
        return [("native", os.path.join(appdata, "GIMP"))]
    if IS_MAC:
        return [("native", os.path.join(h, "Library", "Application Support", "GIMP"))]
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(h, ".config")
    return [("native", os.path.join(xdg, "GIMP")),
            ("flatpak", os.path.join(h, ".var", "app", FLATPAK_ID, "config", "GIMP")),
            ("snap", os.path.join(h, "snap", "gimp", "current", ".config", "GIMP"))]


def version_dirs(root):
    """{version string: profile folder} under a GIMP config root."""
    out = {}
    for p in glob.glob(os.path.join(root, "[0-9]*.[0-9]*")):
        if os.path.isdir(p):
            out[os.path.basename(p)] = p
    return out


def is_v3(version):
    return version.split(".")[0] == "3"


def gimp3_binaries():
    """GIMP 3 programs found on this machine (even if never started: no profile yet)."""
    found = []
    for kind, names in (("native", ["gimp-3.0", "gimp-3", "gimp-console-3.0"]),):
        for n in names:
            p = shutil.which(n)
            if p:
                found.append((kind, p))
    p = shutil.which("gimp")
    if p and not found:
        try:
            out = subprocess.run([p, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 universal_newlines=True, timeout=30).stdout
            if re.search(r"version 3\.", out):
                found.append(("native", p))
        except (OSError, subprocess.SubprocessError):
            pass
    if not IS_WIN and not IS_MAC:
        if shutil.which("flatpak"):
            try:
                out = subprocess.run(["flatpak", "info", FLATPAK_ID], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, universal_newlines=True, timeout=30).stdout
                if re.search(r"Version:\s*3\.", out):
                    found.append(("flatpak", FLATPAK_ID))
            except (OSError, subprocess.SubprocessError):
                pass
        for snapbin in ("/snap/bin/gimp",):
            if os.path.exists(snapbin):
                found.append(("snap", snapbin))
    if IS_MAC:
        for app in glob.glob("/Applications/GIMP*.app") + glob.glob(os.path.join(home(), "Applications", "GIMP*.app")):
            if "2.10" not in app:
                found.append(("native", app))
    if IS_WIN:
        for base in (os.environ.get("ProgramFiles", r"C:\Program Files"),
                     os.environ.get("LOCALAPPDATA", "")):
            for exe in glob.glob(os.path.join(base, "GIMP 3*", "bin", "gimp-3*.exe")) + \
                    glob.glob(os.path.join(base, "Programs", "GIMP 3*", "bin", "gimp-3*.exe")):
                found.append(("native", exe))
    return found


def find_gimp(gimp_dir=None):
    """Returns (targets, searched, only_v2) where targets = [(kind, plug-ins folder)]."""
    if gimp_dir:
        d = os.path.abspath(os.path.expanduser(gimp_dir))
        if os.path.basename(d.rstrip(os.sep)) != "plug-ins":
            d = os.path.join(d, "plug-ins")
        kind = "flatpak" if "/.var/app/" in d else "snap" if "/snap/" in d else "native"
        return [(kind, d)], [d], []
    targets, searched, v2 = [], [], []
    env_dir = os.environ.get("GIMP3_DIRECTORY")
    if env_dir:
        searched.append(env_dir + "  ($GIMP3_DIRECTORY)")
        targets.append(("native", os.path.join(env_dir, "plug-ins")))
    for kind, root in gimp_config_roots():
        searched.append(os.path.join(root, "3.*"))
        for ver, prof in sorted(version_dirs(root).items()):
            if is_v3(ver):
                targets.append((kind, os.path.join(prof, "plug-ins")))
            elif ver.startswith("2."):
                v2.append(prof)
    if not any(k == kind for k, _ in targets for kind in ("native", "flatpak", "snap")):
        pass
    # GIMP 3 installed but never started: create its profile's plug-ins folder
    have = {k for k, _ in targets}
    for kind, where in gimp3_binaries():
        if kind in have:
            continue
        root = dict(gimp_config_roots()).get(kind)
        if root:
            targets.append((kind, os.path.join(root, "3.0", "plug-ins")))
            have.add(kind)
    seen, uniq = set(), []
    for kind, d in targets:
        key = os.path.normcase(os.path.abspath(d))
        if key not in seen:
            seen.add(key)
            uniq.append((kind, d))
    return uniq, searched, v2


# ----------------------------------------------------------------------------- engine venv
def required_python():
    """(major, minor) from pyproject.toml's requires-python (>=X.Y), default (3, 9)."""
    try:
        with open(os.path.join(HERE, "pyproject.toml"), encoding="utf-8") as f:
            text = f.read()
        m = re.search(r'requires-python\s*=\s*"\s*>=\s*(\d+)\.(\d+)', text)
        if m:
            return int(m.group(1)), int(m.group(2))
    except OSError:
        pass
    return (3, 9)


def python_version(exe):
    try:
        out = subprocess.run([exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True,
                             timeout=60).stdout.strip()
        major, minor = out.split(".")
        return int(major), int(minor)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def find_base_python(explicit=None):
    need = required_python()
    if explicit:
        v = python_version(explicit)
        if v is None:
            raise InstallError("--python %s cannot be run" % explicit)
        if v < need:
            raise InstallError("--python %s is Python %d.%d; the engine needs %d.%d or newer" % ((explicit,) + v + need))
        return explicit
    if sys.version_info[:2] >= need:
        return sys.executable
    cands = []
    for minor in range(20, need[1] - 1, -1):
        cands.append(shutil.which("python%d.%d" % (need[0], minor)))
    if IS_WIN and shutil.which("py"):
        for minor in range(20, need[1] - 1, -1):
            cands.append(("py", "-%d.%d" % (need[0], minor)))
    for c in cands:
        if not c:
            continue
        if isinstance(c, tuple):
            try:
                exe = subprocess.run([c[0], c[1], "-c", "import sys; print(sys.executable)"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     universal_newlines=True, timeout=60).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                continue
            if exe:
                return exe
            continue
        v = python_version(c)
        if v and v >= need:
            return c
    raise InstallError("the engine needs Python %d.%d or newer, and this is %d.%d with none newer found on PATH. "
                       "Install Python %d.%d+ and run `python%d.%d install.py`, or pass --python PATH."
                       % (need + sys.version_info[:2] + need + need))


def run(cmd, what, quiet=False, env=None):
    say("    $ " + " ".join(cmd))
    t0 = time.time()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-25:])
        raise InstallError("%s failed (exit %d):\n%s" % (what, proc.returncode, tail))
    if not quiet:
        say("      done in %.1f s" % (time.time() - t0))
    return proc.stdout


def check_writable(path, what):
    p = os.path.abspath(path)
    while not os.path.exists(p):
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    if not os.access(p, os.W_OK):
        raise InstallError("no write permission for the %s folder %s (checked %s). Choose another place "
                           "(--venv / --gimp-dir) or fix the folder's permissions; do not run as another user "
                           "than the one who runs GIMP." % (what, path, p))


def cpu_torch_spec(spec, mac=IS_MAC):
    """The torch requirement that can only be a CPU build. On Linux and Windows PyPI's torch is the multi-GB
    CUDA build, and an exact pin `torch==X.Y.Z` gets the CPU build's label, `torch==X.Y.Z+cpu`, which only the
    CPU index (or a local wheelhouse) has. macOS wheels are CPU builds without a label. Other specs stay as given."""
    m = re.match(r"^\s*torch\s*==\s*([0-9][0-9A-Za-z.]*)\s*$", spec)
    return "torch==%s+cpu" % m.group(1) if m and not mac else spec


def torch_index_args(mac=IS_MAC):
    """pip arguments that fetch torch from the CPU index (its dependencies also from PyPI)."""
    return [] if mac else ["--index-url", TORCH_CPU_INDEX, "--extra-index-url", "https://pypi.org/simple"]


def install_torch(py, spec=DEFAULT_TORCH, env=None):
    """Install the CPU build of torch into the interpreter `py` (install.py and scripts/test.sh use this)."""
    spec = cpu_torch_spec(spec)
    step("installing %s (CPU build)" % spec)
    if not IS_MAC and "+" not in spec:
        say("    note: %r is not an exact version; pip takes the newest match from the CPU index or PyPI, "
            "which could be a CUDA build: pass --torch-spec torch==X.Y.Z to be sure" % spec)
    try:   # a local wheel (find-links, wheelhouse) if the machine has one: no download...
        run([py, "-m", "pip", "install", "--no-index", "--no-deps", spec], "pip install torch (local)", env=env)
        # ...then its own dependencies (torch itself is satisfied now, so no other build comes in)
        run([py, "-m", "pip", "install", spec], "pip install torch's dependencies", env=env)
    except InstallError:
        run([py, "-m", "pip", "install", spec] + torch_index_args(), "pip install torch", env=env)


def engine_requirements(py):
    """colorcore's own dependencies as its installed metadata lists them (extras left out)."""
    out = run([py, "-c", "import importlib.metadata as m, json; print(json.dumps(m.requires('colorcore') or []))"],
              "reading colorcore's dependencies", quiet=True)
    return [r for r in json.loads(out.strip().splitlines()[-1]) if "extra ==" not in r.replace('"', "")]


def requirement_name(req):
    return re.match(r"[A-Za-z0-9._-]*", req.strip()).group(0).lower().replace("_", "-")


def ensure_venv(venv, base_python, torch_spec, record):
    """The engine venv with torch (unless torch_spec is None) and colorcore; returns (python, created now)."""
    py = venv_python(venv)
    created = False
    if os.path.exists(py) and python_version(py):
        step("engine venv exists, reusing it: %s (Python %d.%d)" % ((venv,) + python_version(py)))
    else:
        check_writable(venv, "engine venv")
        step("creating the engine venv %s with %s" % (venv, base_python))
        run([base_python, "-m", "venv", venv], "creating the venv")
        created = True
    record.setdefault("venv_created", created)   # uninstall removes the venv only if install.py made it
    if created:
        record["venv_created"] = True
    env = dict(os.environ)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    have_torch = subprocess.run([py, "-c", "import torch"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE).returncode == 0
    if torch_spec and not have_torch:
        install_torch(py, torch_spec, env)
    elif have_torch:
        step("torch already in the engine venv")
    step("installing the colorcore engine and its dependencies from %s" % HERE)
    if torch_spec or have_torch:
        run([py, "-m", "pip", "install", "--upgrade", HERE], "pip install colorcore", env=env)
    else:   # --no-torch: colorcore's metadata asks for torch, and pip would fetch PyPI's CUDA build
        run([py, "-m", "pip", "install", "--upgrade", "--no-deps", HERE], "pip install colorcore", env=env)
        deps = [r for r in engine_requirements(py) if requirement_name(r) != "torch"]
        if deps:
            run([py, "-m", "pip", "install"] + deps, "pip install colorcore's dependencies except torch", env=env)
    return py, created


def user_bin():
    return os.path.join(home(), ".local", "bin")


def on_path(folder, environ=None):
    want = os.path.normcase(os.path.realpath(folder))
    entries = (os.environ if environ is None else environ).get("PATH", "").split(os.pathsep)
    return any(e and os.path.normcase(os.path.realpath(os.path.expanduser(e))) == want for e in entries)


def link_cli(venv, record):
    """Put `colorcore` into ~/.local/bin, making that folder when missing; returns the command's path."""
    cli = venv_cli(venv)
    if IS_WIN or not os.path.exists(cli):
        return cli
    bindir = user_bin()
    if not os.path.isdir(bindir):
        missing, d = [], bindir   # ~/.local too, maybe: uninstall removes what was made here, if still empty
        while not os.path.isdir(d):
            missing.append(d)
            d = os.path.dirname(d)
        try:
            os.makedirs(bindir)
        except OSError as exc:
            say("    could not create %s (%s): the CLI stays at %s" % (bindir, exc, cli))
            return cli
        record["cli_dirs_created"] = missing
        say("    created %s" % bindir)
    link = os.path.join(bindir, "colorcore")
    if os.path.islink(link) and os.readlink(link) == cli:
        return link
    if os.path.exists(link) or os.path.islink(link):
        say("    %s exists and is not this engine's: left as it is; this engine's CLI is %s" % (link, cli))
        return cli
    try:
        os.symlink(cli, link)
    except OSError as exc:
        say("    could not link %s (%s): the CLI stays at %s" % (link, exc, cli))
        return cli
    record["cli_link"] = link
    return link


def path_report(cli, environ=None):
    """(on PATH?, one line): whether typing `colorcore` runs this engine's CLI `cli` (the ~/.local/bin link,
    or the venv's own script), and if not, how to make it so."""
    environ = os.environ if environ is None else environ
    found = shutil.which("colorcore", path=environ.get("PATH", ""))
    if found and os.path.realpath(found) == os.path.realpath(cli):
        return True, "`colorcore` is on your PATH (%s)" % found
    folder = os.path.dirname(cli)
    if found:
        return False, ("another `colorcore` comes first on your PATH (%s); this engine's is %s: put %s earlier "
                       "in PATH or run it by its full path" % (found, cli, folder))
    if IS_WIN:
        how = "add %s to your user PATH (Settings > Environment variables), then open a new terminal" % folder
    else:
        how = ("add it: echo 'export PATH=\"%s:$PATH\"' >> ~/.profile, then log in again (or run that export "
               "line in this terminal)" % folder.replace(home(), "$HOME", 1))
    return False, "%s is not on your PATH, so `colorcore` alone is not found; %s. Until then run %s" % (
        folder, how, cli)


# ----------------------------------------------------------------------------- plug-in
HELPER_MODULES = ("colorize_engine", "colorize_jobdir", "colorize_options")   # what install.py uses of the plug-in


def load_helpers(folder=PLUGIN_SRC):
    """The plug-in's gi-free helper modules loaded from `folder` (the source tree or an installed copy), their
    names merged into one namespace (helpers.run_engine, helpers.P, ...). They import each other by name, as in
    GIMP's plug-in folder, so they are imported with `folder` first on sys.path and taken out of sys.modules
    again afterwards: each folder gets its own copies, and whatever was loaded before is left as it was."""
    own = [f[:-3] for f in os.listdir(folder) if f.endswith(".py")]
    saved = {name: sys.modules.pop(name) for name in own if name in sys.modules}
    sys.path.insert(0, folder)
    importlib.invalidate_caches()   # a folder just written
    try:
        modules = [importlib.import_module(name) for name in HELPER_MODULES]
    finally:
        sys.path.remove(folder)
        for name in own:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
    helpers = types.SimpleNamespace()
    for module in modules:
        vars(helpers).update((k, v) for k, v in vars(module).items() if not k.startswith("__"))
    return helpers


def plugin_files():
    """colorize.py and every helper module beside it (the protocol copy is added by install_plugin)."""
    return sorted(f for f in os.listdir(PLUGIN_SRC) if f.endswith(".py"))


def install_plugin(kind, plugins_dir, engine_py, record):
    dest = os.path.join(plugins_dir, PLUGIN_NAME)
    check_writable(dest, "GIMP plug-ins")
    created = not os.path.isdir(dest)
    os.makedirs(dest, exist_ok=True)
    files = []
    helpers = load_helpers()
    copies = [(os.path.join(PLUGIN_SRC, name), name) for name in plugin_files()]
    copies.append((PROTOCOL_SRC, helpers.PROTOCOL_FILE))   # the plug-in and the engine speak one protocol
    copies.append((WARM_SRC, helpers.WARM_FILE))           # ... and find the warm engine the same way
    for src, name in copies:
        tmp = os.path.join(dest, name + ".tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, os.path.join(dest, name))   # new mtime: GIMP re-queries the plug-in
        files.append(name)
    main = os.path.join(dest, PLUGIN_NAME + ".py")
    os.chmod(main, os.stat(main).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    eng = {"python": engine_py, "installed_by": "install.py", "source": HERE,
           "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    if kind == "flatpak":
        # the plug-in runs inside GIMP's sandbox; the engine runs on the host through flatpak-spawn
        eng["launcher"] = ["flatpak-spawn", "--host"]
    with open(os.path.join(dest, "engine.json"), "w", encoding="utf-8") as f:
        json.dump(eng, f, indent=1)
    files.append("engine.json")
    helpers = load_helpers(dest)
    rows = []
    try:
        rows = helpers.load_backends(dest, python=engine_py, refresh=True)
    except Exception as exc:  # the plug-in refreshes the list itself later
        say("    (could not list backends now: %s)" % exc)
    if os.path.exists(os.path.join(dest, helpers.BACKENDS_CACHE)):
        files.append(helpers.BACKENDS_CACHE)
    entry = {"kind": kind, "dir": dest, "dir_created": created, "files": files}
    record["plugins"] = [p for p in record.get("plugins", []) if p["dir"] != dest] + [entry]
    return dest, rows


def flatpak_note(dest):
    msg = ("GIMP is a Flatpak: its plug-ins run in a sandbox that cannot start programs outside it. The plug-in "
           "starts the engine with `flatpak-spawn --host`, which needs this one-time permission:\n"
           "    flatpak override --user --talk-name=org.freedesktop.Flatpak %s" % FLATPAK_ID)
    return msg


def grant_flatpak():
    if not shutil.which("flatpak"):
        return False
    proc = subprocess.run(["flatpak", "override", "--user", "--talk-name=org.freedesktop.Flatpak", FLATPAK_ID],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    return proc.returncode == 0


# ----------------------------------------------------------------------------- self-check
def self_check(engine_py, plugin_dir=None):
    """Engine importable, backends listed, and one tiny job through the GIMP bridge protocol."""
    ok = True
    helpers = load_helpers(plugin_dir or PLUGIN_SRC)
    proc = subprocess.run([engine_py, "-c", "import colorcore, sys; print(colorcore.__file__)"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=helpers.engine_env(), cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        out = proc.stdout.strip().splitlines()
        say("  FAIL engine import (exit %d): %s" % (proc.returncode, out[-1] if out else "no output")
            + "; run `python3 install.py` to repair the engine venv")
        return False
    say("  ok   engine importable (%s)" % proc.stdout.strip())
    try:
        rows = helpers.query_backends(engine_py)
    except Exception as exc:
        say("  FAIL `colorcore backends`: %s" % exc)
        return False
    for b in rows:
        state = "available" if b.get("available", True) else "unavailable: %s" % b.get("unavailable_reason")
        say("  %-4s backend %-12s modes %-24s %s" % ("ok" if b.get("available", True) else "--", b["name"],
                                                       ",".join(b.get("modes", [])), state))
    if not rows:
        say("  FAIL no backends registered (see `%s -m colorcore backends`)" % engine_py)
        ok = False
    scr = [b for b in rows if "scribble" in b.get("modes", []) and b.get("available", True)]
    if scr:
        ok = bridge_job(helpers, engine_py, scr[0]["name"]) and ok
    return ok


def bridge_job(helpers, engine_py, backend):
    import struct
    w, h = 16, 12
    work = tempfile.mkdtemp(prefix="colorize-selfcheck-")
    try:
        img = b"".join(struct.pack("<4f", v, v, v, 1.0) for v in
                       (0.2 + 0.6 * (x / (w - 1)) for _ in range(h) for x in range(w)))
        scr = bytearray(w * h * 16)
        for y in range(4, 8):
            for x in range(2, 5):
                struct.pack_into("<4f", scr, (y * w + x) * 16, 0.9, 0.2, 0.1, 1.0)
        P = helpers.P
        helpers.write_buffer(work, P.IMAGE_FILE, img)
        helpers.write_buffer(work, P.SCRIBBLES_FILE, bytes(scr))
        man = helpers.write_manifest(work, "scribble", backend, w, h, has_scribbles=True)
        t0 = time.time()
        res, timing = helpers.run_one_shot(engine_py, man)   # a check leaves no engine running
        data = helpers.read_buffer(work, P.RESULT_FILE, P.buffer_bytes("output", w, h))
        helpers.read_buffer(work, P.UNCERTAINTY_FILE, P.buffer_bytes("uncertainty_output", w, h))
        r, g, b = struct.unpack_from("<3f", data, (5 * w + 3) * 12)
        say("  ok   bridge job (%s, %dx%d) in %.1f s: scribbled pixel -> RGB %.2f %.2f %.2f"
            % (backend, w, h, time.time() - t0, r, g, b))
        return True
    except Exception as exc:
        say("  FAIL bridge job with backend %s: %s" % (backend, exc))
        return False
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ----------------------------------------------------------------------------- commands
def load_record(venv):
    try:
        with open(os.path.join(venv, RECORD), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def save_record(venv, record):
    with open(os.path.join(venv, RECORD), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)


def cmd_install(args):
    venv = os.path.abspath(os.path.expanduser(args.venv or default_venv()))
    base = find_base_python(args.python)
    record = load_record(venv)
    engine_py, created = ensure_venv(venv, base, None if args.no_torch else args.torch_spec, record)
    record.update({"venv": venv, "engine_python": engine_py, "source": HERE})
    save_record(venv, record)
    cli = link_cli(venv, record)
    save_record(venv, record)
    step("engine ready: %s (CLI: %s)" % (engine_py, cli))

    targets, searched, v2 = find_gimp(args.gimp_dir)
    installed = []
    if not targets:
        say("")
        say("Plug-in step SKIPPED: no GIMP 3 found. Folders searched:")
        for s in searched:
            say("    " + s)
        if v2:
            say("Only GIMP 2.10 was found (%s). This plug-in needs GIMP 3.0 or newer (Python 3 plug-ins); "
                "install GIMP 3 (gimp.org, Flatpak org.gimp.GIMP) and run install.py again." % ", ".join(v2))
        else:
            say("Install GIMP 3 (gimp.org or Flatpak org.gimp.GIMP), start it once, and run install.py again, "
                "or pass --gimp-dir PATH-TO/GIMP/3.0/plug-ins.")
    for kind, pdir in targets:
        try:
            dest, rows = install_plugin(kind, pdir, engine_py, record)
        except (InstallError, OSError) as exc:
            say("Plug-in step FAILED for %s: %s" % (pdir, exc))
            continue
        save_record(venv, record)
        installed.append(dest)
        step("plug-in installed (%s GIMP): %s" % (kind, dest))
        if kind == "flatpak":
            say(flatpak_note(dest))
            if args.yes or args.flatpak_permission:
                say("    granted." if grant_flatpak() else "    could not run `flatpak override`: run it yourself.")
    step("self-check")
    ok = self_check(engine_py, installed[0] if installed else None)
    say("")
    say("Summary:")
    say("  engine venv : %s (%s)" % (venv, "created" if created else "reused"))
    _, path_line = path_report(cli)
    say("  engine CLI  : %s" % cli)
    say("  PATH        : %s" % path_line)
    for d in installed:
        say("  GIMP plug-in: %s  -> Filters > Colorize > Auto... / Scribble... / Partial..." % d)
    if not installed:
        say("  GIMP plug-in: skipped (see above)")
    say("  self-check  : %s" % ("passed" if ok else "FAILED (see above)"))
    say("  undo with   : %s %s --uninstall%s" % (os.path.basename(sys.executable), os.path.abspath(__file__),
                                                (" --venv " + venv) if args.venv else ""))
    if installed:
        say("Restart GIMP to see the new menu entries.")
    return 0 if ok else 1


def cmd_uninstall(args):
    venv = os.path.abspath(os.path.expanduser(args.venv or default_venv()))
    record = load_record(venv)
    if not record:
        say("Nothing recorded at %s: nothing to uninstall (pass --venv if you installed elsewhere)." % venv)
        return 0
    for p in record.get("plugins", []):
        for name in p.get("files", []):
            path = os.path.join(p["dir"], name)
            if os.path.exists(path):
                os.remove(path)
                say("removed %s" % path)
        cache = os.path.join(p["dir"], "__pycache__")
        if os.path.isdir(cache):
            shutil.rmtree(cache, ignore_errors=True)
        if p.get("dir_created") and os.path.isdir(p["dir"]) and not os.listdir(p["dir"]):
            os.rmdir(p["dir"])
            say("removed %s" % p["dir"])
    link = record.get("cli_link")
    if link and os.path.islink(link):
        os.remove(link)
        say("removed %s" % link)
    for made in record.get("cli_dirs_created", []):   # deepest first: ~/.local/bin, then ~/.local
        if os.path.isdir(made) and not os.listdir(made):
            os.rmdir(made)
            say("removed %s" % made)
    if record.get("venv_created"):
        shutil.rmtree(venv, ignore_errors=True)
        say("removed the engine venv %s" % venv)
        parent = os.path.dirname(venv)
        if parent == data_dir() and os.path.isdir(parent) and not os.listdir(parent):
            os.rmdir(parent)   # the data folder install.py made for it
    else:
        os.remove(os.path.join(venv, RECORD))
        say("left the engine venv %s in place (it existed before install.py)" % venv)
    return 0


def cmd_check(args):
    venv = os.path.abspath(os.path.expanduser(args.venv or default_venv()))
    problems = 0
    say("Python running install.py: %s (%d.%d)" % ((sys.executable,) + sys.version_info[:2]))
    py = venv_python(venv)
    if os.path.exists(py):
        say("  ok   engine venv %s" % venv)
    else:
        say("  FAIL engine venv missing at %s: run `python install.py`" % venv)
        problems += 1
    cli = load_record(venv).get("cli_link") or venv_cli(venv)
    if os.path.exists(cli):
        on_path, line = path_report(cli)
        say("  %s %s" % ("ok  " if on_path else "note", line))
    targets, searched, v2 = find_gimp(args.gimp_dir)
    if not targets:   # a CLI-only install is a working install
        say("  note no GIMP 3 found, so no plug-in (the engine and the CLI work without it); searched: %s"
            % "; ".join(searched))
        if v2:
            say("       only GIMP 2.10 found: %s (the plug-in needs GIMP 3)" % ", ".join(v2))
    for kind, pdir in targets:
        dest = os.path.join(pdir, PLUGIN_NAME)
        main = os.path.join(dest, PLUGIN_NAME + ".py")
        if not os.path.exists(main):
            say("  FAIL GIMP 3 (%s) at %s: plug-in not installed" % (kind, pdir))
            problems += 1
            continue
        say("  ok   GIMP 3 (%s): plug-in at %s" % (kind, dest))
        for copy in (load_helpers().PROTOCOL_FILE, load_helpers().WARM_FILE):
            if not os.path.exists(os.path.join(dest, copy)):
                say("  FAIL %s is missing (the plug-in cannot talk to the engine): rerun install.py"
                    % os.path.join(dest, copy))
                problems += 1
        missing = [f for f in plugin_files() if not os.path.exists(os.path.join(dest, f))]
        if missing:
            say("  FAIL the plug-in's %s %s missing from %s: rerun install.py"
                % (", ".join(missing), "is" if len(missing) == 1 else "are", dest))
            problems += 1
        if not IS_WIN and not os.access(main, os.X_OK):
            say("  FAIL %s is not executable (GIMP ignores it): chmod +x it or rerun install.py" % main)
            problems += 1
        try:
            with open(os.path.join(dest, "engine.json"), encoding="utf-8") as f:
                eng = json.load(f)
            say("  ok   engine.json -> %s" % eng.get("python"))
            if not os.path.exists(eng.get("python", "")):
                say("  FAIL that interpreter does not exist: rerun install.py")
                problems += 1
            if kind == "flatpak":
                say("  note " + flatpak_note(dest).replace("\n", "\n       "))
        except (OSError, ValueError) as exc:
            say("  FAIL engine.json unreadable: %s" % exc)
            problems += 1
    if os.path.exists(py):
        if not self_check(py):
            problems += 1
        say("  %s" % warm_engine_report(py))
    say("%s" % ("all good" if not problems else "%d problem(s) found" % problems))
    return 0 if not problems else 1


def warm_engine_report(engine_py):
    """One line on the warm engine (colorcore serve): running with its process and memory, or not running
    (it starts with the first Colorize run and exits when idle)."""
    try:
        out = subprocess.run([engine_py, "-m", "colorcore", "serve", "--status"], capture_output=True, text=True,
                             timeout=60).stdout
        status = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError):
        return "note warm engine: not running (it starts with the first Colorize run and exits when idle)"
    return ("ok   warm engine: running, process %s, %s MB, %s job(s), exits after %.0f s idle"
            % (status.get("pid"), status.get("rss_mb"), status.get("jobs"), status.get("idle_exit_s", 0)))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Install the Colorize GIMP 3 plug-in and its colorcore engine.")
    ap.add_argument("--venv", help="engine venv folder (default: %s)" % default_venv())
    ap.add_argument("--gimp-dir", help="GIMP 3 plug-ins folder (or profile folder) to install into; "
                                       "default: every GIMP 3 profile found")
    ap.add_argument("--python", help="interpreter to create the engine venv with (default: this one, "
                                     "or the newest suitable python3.X on PATH)")
    ap.add_argument("--torch-spec", default=DEFAULT_TORCH,
                    help="torch requirement (default: %(default)s); on Linux and Windows an exact pin "
                         "becomes the CPU build (+cpu), never PyPI's multi-GB CUDA build")
    ap.add_argument("--no-torch", action="store_true", help="do not install torch (auto backend unavailable)")
    ap.add_argument("--flatpak-permission", action="store_true",
                    help="grant Flatpak GIMP the permission to start the engine on the host")
    ap.add_argument("--yes", action="store_true", help="answer yes (implies --flatpak-permission)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--check", action="store_true", help="diagnose the installation")
    g.add_argument("--uninstall", action="store_true", help="remove exactly what install.py installed")
    args = ap.parse_args(argv)
    try:
        if args.check:
            return cmd_check(args)
        if args.uninstall:
            return cmd_uninstall(args)
        return cmd_install(args)
    except InstallError as exc:
        say("")
        say("install.py: error: %s" % exc)
        return 1
    except KeyboardInterrupt:
        say("install.py: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
