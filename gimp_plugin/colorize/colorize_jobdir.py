"""The job folder (stdlib only): a private folder per run, in RAM when it fits, through which the pixels go to
the engine and come back as raw buffers; folders left by a killed plug-in are swept away. Layers go in their
own storage format where the protocol has one (transfer_format)."""
import os
import shutil
import sys
import tempfile
import time

from colorize_engine import P, PluginError

TMP_PREFIX = "gimp-colorize-"   # gimp-colorize-<pid>-<random>


def job_base_dirs():
    """Where job folders may go: RAM-backed /dev/shm first (Linux), then the temp folder."""
    dirs = []
    if sys.platform.startswith("linux") and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        dirs.append("/dev/shm")
    dirs.append(tempfile.gettempdir())
    return dirs


def make_workdir(nbytes=0):
    """A private job folder; in RAM when it has room for the job twice over (pixels go through it)."""
    for base in job_base_dirs():
        try:
            st = os.statvfs(base) if hasattr(os, "statvfs") else None
            if st is not None and base != tempfile.gettempdir() and st.f_bavail * st.f_frsize < 2 * nbytes + (64 << 20):
                continue
            return tempfile.mkdtemp(prefix="%s%d-" % (TMP_PREFIX, os.getpid()), dir=base)
        except OSError:
            continue
    return tempfile.mkdtemp(prefix="%s%d-" % (TMP_PREFIX, os.getpid()))


def cleanup_stale_workdirs(max_age_s=24 * 3600, now=None):
    """Remove job folders left by a killed plug-in (GIMP kills it on cancel)."""
    now = time.time() if now is None else now
    for base in job_base_dirs():
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            if name.startswith(TMP_PREFIX):
                path = os.path.join(base, name)
                try:
                    if now - os.path.getmtime(path) > max_age_s or not _owner_alive(name):
                        shutil.rmtree(path, ignore_errors=True)
                except OSError:
                    pass


def _owner_alive(name):
    """Job folders are named gimp-colorize-<pid>-...: is that plug-in process still running?"""
    try:
        pid = int(name[len(TMP_PREFIX):].split("-", 1)[0])
    except ValueError:
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def write_buffer(folder, name, data):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def read_buffer(folder, name, nbytes):
    path = os.path.join(folder, name)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise PluginError("the engine did not write %s: %s" % (name, exc))
    if len(data) != nbytes:
        raise PluginError("the engine wrote %d bytes to %s, expected %d" % (len(data), name, nbytes))
    return data


RESULTS = ('output', 'uncertainty_output', 'intervals_lo', 'intervals_hi')   # a photo's result layers


def transfer_format(field, bits, gray=False, alpha=True):
    """The babl format (colorcore_protocol.FORMATS) of buffer `field` for a drawable of an 8- or 16-bit
    perceptual image (`bits` 8 or 16; None for any other precision): the layer's own storage format, which GEGL
    copies where any other format costs a conversion; else the float default. The result layers are RGB layers
    of the image's precision (the uncertainty too). A photo layer with alpha (`alpha` for a result: the photo's)
    keeps floats both ways: its alpha goes back into the results as floats."""
    if bits not in (8, 16) or (alpha and field in ('image',) + RESULTS):
        return P.DEFAULT_FORMATS[field]
    if field == 'mask':   # selections and channels are stored linear
        return 'Y u%d' % bits
    if field in RESULTS:
        return "R'G'B' u%d" % bits
    return "%s%s u%d" % ("Y'" if gray else "R'G'B'", 'A' if alpha else '', bits)
