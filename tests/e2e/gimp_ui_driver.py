# Driver run inside the GIMP 3 GUI (gimp-3.0 under Xvfb, python-fu-eval): opens each Colorize
# dialog INTERACTIVELY (the plug-in saves a screenshot of it and presses OK when
# $COLORIZE_TEST_DIALOG is set), checks that ONE Ctrl+Z undoes a whole run, and saves screenshots
# of the window (xwd, converted by GIMP's own XWD loader) for the docs.  Writes report.json.
import json
import os
import subprocess
import time
import traceback

import gi
gi.require_version('Gimp', '3.0')
from gi.repository import Gimp, Gio  # noqa: E402

NI = Gimp.RunMode.NONINTERACTIVE


def names(image):
    return [l.get_name() for l in image.get_layers()]


def xdo(*args):
    p = subprocess.run(['xdotool'] + list(args), capture_output=True, text=True, timeout=30)
    return p.stdout.strip()


def export_png(image, path):
    exp = Gimp.get_pdb().lookup_procedure('file-png-export')
    c = exp.create_config()
    c.set_property('run-mode', NI)
    c.set_property('image', image)
    c.set_property('file', Gio.File.new_for_path(path))
    c.set_property('include-thumbnail', False)
    exp.run(c)


def screenshot(path, width=None, crop=None):
    """The whole X screen (or crop = (x, y, w, h) of it) -> PNG, through GDK."""
    gi.require_version('Gdk', '3.0')
    from gi.repository import Gdk
    Gdk.init([])
    root = Gdk.get_default_root_window()
    x, y, w, h = crop or (0, 0, root.get_width(), root.get_height())
    pb = Gdk.pixbuf_get_from_window(root, x, y, w, h)
    if width and pb.get_width() > width:
        from gi.repository import GdkPixbuf
        pb = pb.scale_simple(width, int(pb.get_height() * width / pb.get_width()), GdkPixbuf.InterpType.HYPER)
    pb.savev(path, 'png', [], [])


def run_proc(name, image, layer, mode=Gimp.RunMode.INTERACTIVE, **args):
    pdb = Gimp.get_pdb()
    proc = pdb.lookup_procedure(name)
    cfg = proc.create_config()
    cfg.set_property('run-mode', mode)
    cfg.set_property('image', image)
    cfg.set_core_object_array('drawables', [layer])
    for k, v in args.items():
        cfg.set_property(k.replace('_', '-'), v)
    res = proc.run(cfg)
    err = str(res.index(1)) if res.length() > 1 and res.index(0) != Gimp.PDBStatusType.SUCCESS else None
    return res.index(0).value_nick, err


def gimp_window():
    ids = xdo('search', '--onlyvisible', '--name', 'GIMP').split()
    return ids[-1] if ids else None


def press(keys, win):
    if win:
        xdo('windowfocus', '--sync', win)
    xdo('key', '--clearmodifiers', keys)
    time.sleep(1.5)
    Gimp.displays_flush()


def settle(done, timeout=10.0):
    """Wait (up to timeout seconds) until done() holds: on a loaded machine GIMP may act on a key press later than
    press()'s pause. Asserts nothing: the test checks the state noted after it."""
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        time.sleep(0.2)
        Gimp.displays_flush()


def main():
    spec = json.load(open(os.environ['E2E_SPEC']))
    out = spec['out']
    rep = {'steps': []}

    def note(**kw):
        rep['steps'].append(kw)
        with open(os.path.join(out, 'report.json'), 'w') as f:
            json.dump(rep, f, indent=1)
        print('E2E-UI', json.dumps(kw), flush=True)

    img = Gimp.file_load(NI, Gio.File.new_for_path(spec['photo']))
    photo = img.get_layers()[0]
    photo.set_name('Photo')
    scr = Gimp.file_load_layer(NI, img, Gio.File.new_for_path(spec['scribbles']))
    scr.set_name('Scribbles')
    img.insert_layer(scr, None, 0)
    img.set_selected_layers([photo])
    Gimp.Display.new(img)
    Gimp.displays_flush()
    time.sleep(3)
    win = gimp_window()
    if win:   # no window manager under Xvfb: place and size the main window by hand
        xdo('windowmove', win, '0', '0')
        xdo('windowsize', win, '1280', '860')
        time.sleep(1.5)
    note(step='window', id=win, title=xdo('getwindowname', win) if win else None)

    # the menu: Filters (Alt+R), Up wraps to its last entry "Colorize", Right opens it
    xdo('windowfocus', '--sync', win)
    for k in ('alt+r', 'Up', 'Right'):
        xdo('key', k)
        time.sleep(1.0)
    screenshot(os.path.join(out, 'menu.png'), crop=(0, 0, 900, 560))
    xdo('key', 'Escape')
    xdo('key', 'Escape')
    time.sleep(0.5)

    # Scribble: dialog, run, then ONE Ctrl+Z must restore the layer list, Ctrl+Y redo it
    before = names(img)
    st, err = run_proc('plug-in-colorize-scribble', img, photo)
    after = names(img)
    note(step='scribble', status=st, error=err, before=before, after=after)
    time.sleep(1)
    for mwin in xdo('search', '--onlyvisible', '--name', 'Message').split():   # the uncertainty-scale note
        xdo('windowfocus', '--sync', mwin)
        xdo('key', 'Return')
        time.sleep(0.5)
    screenshot(os.path.join(out, 'result-window.png'))
    unc = [l for l in img.get_layers() if l.get_name().startswith('Uncertainty (')]
    if unc:   # a second screenshot with the uncertainty layer shown
        unc[0].set_visible(True)
        Gimp.displays_flush()
        time.sleep(1.5)
        screenshot(os.path.join(out, 'uncertainty-window.png'))
        unc[0].set_visible(False)
        Gimp.displays_flush()
    # (visibility toggles are undo steps too: undo them first, counting them)
    press('ctrl+z', win)
    press('ctrl+z', win)
    n_vis = names(img)
    press('ctrl+z', win)
    undone = names(img)
    note(step='undo', after_visibility_undo=n_vis, after_one_undo=undone)
    press('ctrl+y', win)
    note(step='redo', layers=names(img))

    # Partial and Auto dialogs
    img.select_ellipse(Gimp.ChannelOps.REPLACE, img.get_width() * 0.15, img.get_height() * 0.1,
                       img.get_width() * 0.7, img.get_height() * 0.6)
    img.set_selected_layers([scr])   # as after painting: the Scribbles layer is still selected
    st, err = run_proc('plug-in-colorize-partial', img, scr)
    note(step='partial', status=st, error=err, layers=names(img))
    Gimp.Selection.none(img)
    st, err = run_proc('plug-in-colorize-auto', img, photo)
    note(step='auto', status=st, error=err, layers=names(img))

    # From reference: a colour photo opened beside the target is the dialog's default reference
    ref = Gimp.file_load(NI, Gio.File.new_for_path(spec['photo']))
    img.set_selected_layers([photo])
    st, err = run_proc('plug-in-colorize-reference', img, photo)
    note(step='reference', status=st, error=err, layers=names(img), reference_layers=names(ref))
    ref.delete()
    time.sleep(1)
    for mwin in xdo('search', '--onlyvisible', '--name', 'Message').split():   # its uncertainty-scale note
        xdo('windowfocus', '--sync', mwin)
        xdo('key', 'Return')
        time.sleep(0.5)

    # Scribble on a GRAY image with no scribble layer: an empty "Scribbles" layer appears, image becomes RGB
    g = Gimp.file_load(NI, Gio.File.new_for_path(spec['gray_photo']))
    gl = g.get_layers()[0]
    before = names(g)
    st, err = run_proc('plug-in-colorize-scribble', g, gl)
    note(step='scribble_no_layer', status=st, error=err, before=before, after=names(g),
         base_type=g.get_base_type().value_nick)
    # ...and one Ctrl+Z takes both the layer and the GRAY -> RGB conversion back
    Gimp.Display.new(g)
    Gimp.displays_flush()
    time.sleep(2)
    win = gimp_window() or win
    press('ctrl+z', win)
    settle(lambda: g.get_base_type().value_nick == 'gray')
    note(step='scribble_no_layer_undo', layers=names(g), base_type=g.get_base_type().value_nick)
    # a colorize run on a GRAY image (fake engine): conversion + two layers, one Ctrl+Z undoes all
    before = names(g)
    st, err = run_proc('plug-in-colorize-auto', g, g.get_layers()[0], mode=NI, engine_python=spec['fake_ok'])
    after, bt = names(g), g.get_base_type().value_nick
    press('ctrl+z', win)
    settle(lambda: names(g) == before)
    note(step='gray_run_undo', status=st, error=err, before=before, after=after, after_base_type=bt,
         undone=names(g), undone_base_type=g.get_base_type().value_nick)
    note(step='done')


try:
    main()
except Exception:
    traceback.print_exc()
    raise
