#!/usr/bin/env python3
# Colorize: GIMP 3 plug-in, Filters > Colorize > Auto... / Scribble... / Partial... / From reference...
#
# Thin GIMP side (stdlib + gi only; GIMP's own Python may lack numpy): reads the
# selected layer (and the scribble layer or the mask) as raw buffers through
# GEGL, each in its own format where it can, hands them to the colorcore engine
# -- a separate Python in its own venv, recorded by install.py in engine.json
# beside this file -- and adds the "Colorized (<backend>)" and
# "Uncertainty (<backend>)" layers in one undo group.
# The gi-free logic lives in the colorize_*.py modules beside this file (unit-tested
# without GIMP); install.py copies them, and the engine's protocol, next to it.
import os
import shutil
import sys
import time

import gi
gi.require_version('Gimp', '3.0')
gi.require_version('Gegl', '0.4')
from gi.repository import Gimp, Gegl, GObject, GLib  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # the helper modules beside this file
from colorize_engine import (P, Cancelled, PluginError, find_engine, log_timing, prewarm, process_age,  # noqa: E402
                             run_engine)
from colorize_jobdir import (RESULTS, cleanup_stale_workdirs, make_workdir, read_buffer,  # noqa: E402
                             transfer_format, write_buffer)
from colorize_options import (backend_choice_label, backends_for_mode, collect_options,  # noqa: E402
                              default_backend, load_backends, option_args, option_bounds)
from colorize_labels import dialog_groups, option_words  # noqa: E402
from colorize_layers import (PARASITE_NAME, SCRIBBLE_LAYER_NAME, colorized_layer_name, interleave,  # noqa: E402
                             interval_layer_name, is_result_name, pick_scribble_layer, uncertainty_layer_name,
                             uncertainty_message, uncertainty_parasite_text)
from colorize_frames import (FRAMES_CHOICES, colorized_frame_name, draws_over_previous,  # noqa: E402
                             frame_layers, looks_like_animation)
from colorize_suggest import (SUGGEST_LAYER_NAME, place_tiles, read_places, suggest_message,  # noqa: E402
                              tiles_bounds, wants_suggestions)
from colorize_reference import (NO_COLOUR, NO_REFERENCE, default_reference, merge_needed,  # noqa: E402
                                reference_scribble_layer, reference_source)

# seconds from the plug-in process's start to each step of its start-up, for the run's timing record
STARTUP = {'plugin_imported': process_age()}   # Python, gi and GIMP's libraries loaded
RGBA = "R'G'B'A float"
GRAYA = "Y'A float"
# the image precisions whose layers go to the engine in their own format (colorize_jobdir.transfer_format)
STORED_BITS = {Gimp.Precision.U8_NON_LINEAR: 8, Gimp.Precision.U16_NON_LINEAR: 16}
RW = GObject.ParamFlags.READWRITE
PROC_NAMES = {m: 'plug-in-colorize-' + m for m in P.MODES}
MENU_LABELS = {'auto': 'Auto\u2026', 'scribble': 'Scribble\u2026', 'partial': 'Partial\u2026',
               'reference': 'From reference\u2026'}
MENU_PATH = '<Image>/Filters/Colorize'
DIALOG_TITLES = {'auto': 'Colorize automatically', 'scribble': 'Colorize from scribbles',
                 'partial': 'Colorize the selection', 'reference': 'Colorize from a reference photo'}
BLURBS = {
    'auto': ('Colorize a black-and-white photo automatically',
             'Colorizes the selected layer with an automatic backend. Adds a "Colorized (<backend>)" layer and '
             'an "Uncertainty (<backend>)" layer (white = the uncertainty scale in Delta E, see the layer\'s '
             'parasite "colorize-uncertainty").'),
    'scribble': ('Colorize a photo from colour scribbles',
                 'Spreads the colours painted on a scribble layer (default: the layer named "Scribbles") over '
                 'the selected layer, keeping its lightness. Interactively, when there is no scribble layer, '
                 'an empty "Scribbles" layer is added for you to paint on.'),
    'partial': ('Colorize only the selected part of a photo',
                'Colorizes the selected layer inside the selection (or a chosen channel); a feathered '
                'selection blends softly; outside it the pixels stay exactly as they were.'),
    'reference': ('Colorize a photo with the colours of a reference photo',
                  'Takes the colours from a colour photo you choose (an open image, default the most recently '
                  'opened colour image other than this one, or a layer): a later photo of the same place, '
                  'another frame of the same film, or a picture whose palette you want. Strokes on a '
                  '"Scribbles" layer override the reference where painted; with a selection only the selection '
                  'changes.'),
}


def log(*args):
    print('[colorize]', *args, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- pixels
def read_pixels(drawable, fmt, x=0, y=0, w=None, h=None):
    """Raw bytes, in babl format `fmt`, of a rectangle in the drawable's own coordinates; zeros outside it."""
    w = drawable.get_width() if w is None else w
    h = drawable.get_height() if h is None else h
    buf = drawable.get_buffer()
    return bytes(buf.get(Gegl.Rectangle.new(x, y, w, h), 1.0, fmt, Gegl.AbyssPolicy.NONE))


def write_pixels(layer, fmt, data):
    w, h = layer.get_width(), layer.get_height()
    buf = layer.get_buffer()
    buf.set(Gegl.Rectangle.new(0, 0, w, h), fmt, data)
    buf.flush()   # without it the core never sees the pixels
    layer.update(0, 0, w, h)


def layer_list(image):
    return [(l.get_id(), l.get_name(), l.has_alpha()) for l in image.get_layers()]


def is_result_layer(layer):
    return is_result_name(layer.get_name())


# ----------------------------------------------------------------------------- dialog
EXPERT_ARGS = ['alpha', 'interval-layers', 'seed']   # after the chosen backend's expert options


def run_dialog(procedure, config, mode, backends, image=None):
    gi.require_version('GimpUi', '3.0')
    from gi.repository import GimpUi
    GimpUi.init(procedure.get_name())
    dialog = GimpUi.ProcedureDialog.new(procedure, config, DIALOG_TITLES[mode])
    layout = fill_dialog(dialog, config, mode, backends)
    if mode == 'reference':
        add_reference_image_chooser(dialog, config, image)
    if os.environ.get('COLORIZE_TEST_DIALOG'):   # tests/e2e only: screenshots, then OK
        _test_autoclose(dialog, config, layout, os.environ['COLORIZE_TEST_DIALOG'], mode)
    ok = dialog.run()
    dialog.destroy()
    return ok


def fill_dialog(dialog, config, mode, backends):
    """The inputs and the backend, then the chosen backend's everyday options, the result layers, and an
    "Expert options" expander (the backend's expert options, the uncertainty level, interval layers, seed).
    Only the chosen backend's options show; choosing another backend shows its own.
    Returns {'groups': {backend: [widgets]}, 'expander': widget}."""
    groups, basic_ids, expert_ids = {}, [], []
    for bname, basic, expert in dialog_groups(backends, mode):
        for kind, props, ids in (('basic', basic, basic_ids), ('expert', expert, expert_ids)):
            if props:
                box_id = '%s:%s' % (bname, kind)   # a ':' never occurs in a property name
                groups.setdefault(bname, []).append(dialog.fill_box(box_id, props))
                ids.append(box_id)
    dialog.get_label('expert:title', 'Expert options', False, False)
    dialog.fill_box('expert:box', expert_ids + EXPERT_ARGS)
    expander = dialog.fill_expander('expert', 'expert:title', False, 'expert:box')
    inputs = {'scribble': ['scribble-layer'], 'partial': ['mask-channel', 'scribble-layer'],
              'reference': ['reference-layer', 'scribble-layer']}.get(mode, [])
    dialog.fill(inputs + ['backend'] + basic_ids + ['uncertainty-layer', 'frames', 'expert'])
    for widgets in groups.values():
        for w in widgets:
            w.set_no_show_all(True)   # shown by show_chosen_backend only
    show_chosen_backend(dialog, config, groups)
    handler = config.connect('notify::backend', lambda *_: show_chosen_backend(dialog, config, groups))
    dialog.connect('destroy', lambda *_: config.disconnect(handler))
    return {'groups': groups, 'expander': expander}


def colour_images():
    """The open images that hold colour (a GRAY image cannot be a reference), oldest first."""
    return [im for im in Gimp.get_images() if im.get_base_type() != Gimp.ImageBaseType.GRAY]


def add_reference_image_chooser(dialog, config, image):
    """GIMP 3.0's procedure dialog has no widget for an image argument: a combo box of the open colour images
    on top of the dialog, bound to "reference-image" (set to the default reference before the dialog opens)."""
    gi.require_version('Gtk', '3.0')
    from gi.repository import Gtk, GimpUi
    colour = {im.get_id() for im in colour_images()}
    try:
        combo = GimpUi.ImageComboBox.new(lambda im, *data: im.get_id() in colour, None)
    except TypeError:
        combo = GimpUi.ImageComboBox.new(None, None)
    chosen = config.get_property('reference-image')
    if chosen is not None:
        GimpUi.IntComboBox.set_active(combo, chosen.get_id())

    def changed(*_):
        ok, iid = GimpUi.IntComboBox.get_active(combo)
        config.set_property('reference-image', Gimp.Image.get_by_id(iid) if ok and iid > 0 else None)
    GObject.Object.connect(combo, 'changed', changed)   # combo.connect is GimpIntComboBox's own connect
    label = Gtk.Label.new_with_mnemonic('_Reference image')
    label.set_mnemonic_widget(combo)
    label.set_xalign(0.0)
    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=6)
    row.pack_start(label, False, False, 0)
    row.pack_start(combo, True, True, 0)
    tip = ('The open image whose colours are used (its visible layers). A reference layer, when chosen, is used '
           'instead.') if colour - {image.get_id() if image is not None else None} else NO_REFERENCE + '.'
    row.set_tooltip_text(tip)
    row.show_all()
    area = dialog.get_content_area()
    area.pack_start(row, False, False, 0)
    area.reorder_child(row, 0)
    return combo


def show_chosen_backend(dialog, config, groups):
    chosen = config.get_property('backend')
    for bname, widgets in groups.items():
        for w in widgets:
            w.set_visible(bname == chosen)
    dialog.resize(max(dialog.get_allocated_width(), 1), 1)   # shrink to fit when fewer options show


def shown_labels(widget):
    """The texts of the labels the user can see, top to bottom: for the e2e test's log."""
    gi.require_version('Gtk', '3.0')
    from gi.repository import Gtk
    if not widget.get_visible():
        return []
    if isinstance(widget, Gtk.Label):
        return [widget.get_text().strip()] if widget.get_text().strip() else []
    if isinstance(widget, Gtk.Expander):   # its child stays mapped while folded: only the title shows
        title = shown_labels(widget.get_label_widget()) if widget.get_label_widget() else []
        return title + (shown_labels(widget.get_child()) if widget.get_expanded() and widget.get_child() else [])
    out = []
    if isinstance(widget, Gtk.Container):
        for child in widget.get_children():
            out += shown_labels(child)
    return out


def _test_autoclose(dialog, config, layout, folder, mode):
    """tests/e2e only: a screenshot of the dialog as it opens, one with the expert options open, the labels shown
    for every backend of the mode (logged), then OK with the settings it opened with."""
    gi.require_version('Gtk', '3.0')
    gi.require_version('Gdk', '3.0')
    from gi.repository import Gtk, Gdk
    import json

    def snap(name):
        try:
            win = dialog.get_window()
            w, h = win.get_width(), win.get_height()
            pix = Gdk.pixbuf_get_from_window(win, 0, 0, w, h)
            pix.savev(os.path.join(folder, name), 'png', [], [])
            log('dialog screenshot %s %dx%d saved' % (name, w, h))
        except Exception as exc:
            log('dialog screenshot failed:', exc)

    def shown(what):
        log('dialog shows %s' % json.dumps({'mode': mode, 'state': what, 'backend': config.get_property('backend'),
                                            'labels': shown_labels(dialog.get_content_area())}))

    chosen = config.get_property('backend')
    others = [b for b in layout['groups'] if b != chosen]

    def steps():
        snap('dialog-%s.png' % mode)
        shown('opened')
        yield
        layout['expander'].set_expanded(True)
        yield
        snap('dialog-%s-expert.png' % mode)
        shown('expert')
        for b in others:
            config.set_property('backend', b)
            yield
            shown('expert')
        config.set_property('backend', chosen)
        layout['expander'].set_expanded(False)
        yield
        dialog.response(Gtk.ResponseType.OK)

    it = steps()

    def tick():
        if next(it, 'end') is None:   # a step done: the next one once GTK has drawn it
            GLib.timeout_add(700, tick)
        return False
    GLib.timeout_add(1500, tick)


# ----------------------------------------------------------------------------- the inputs
class Job:
    """One run, decided before anything is written: its settings, the layers it reads, the size it works at
    (the layer's, or the image's for an animation's frames) and its timing record."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def find_scribbles(image, source, config, frames=None, mode=None):
    scr = config.get_property('scribble-layer')
    if scr is None and mode == 'reference':   # only the layer named "Scribbles": another may be the reference
        ref = config.get_property('reference-layer')
        lid = reference_scribble_layer(layer_list(image), source.get_id(), ref.get_id() if ref is not None else None)
        scr = Gimp.Layer.get_by_id(lid) if lid is not None else None
    elif scr is None and frames:   # an animation: every other layer is a frame, so only the named one
        scr = next((l for l in image.get_layers() if l.get_name() == SCRIBBLE_LAYER_NAME), None)
    elif scr is None:
        lid = pick_scribble_layer(layer_list(image), source.get_id())
        scr = Gimp.Layer.get_by_id(lid) if lid is not None else None
    return scr


def input_layers(image, source, mode, config, binfo, frames=None):
    """The scribble layer and the mask to send, as {'scribble_layer', 'mask_drawable'} (None when none);
    raises PluginError(calling=True) for bad input."""
    job = {'scribble_layer': None, 'mask_drawable': None}
    needs = mode == 'scribble' or bool(binfo.get('needs_scribbles'))
    uses = mode == 'scribble' or not binfo or P.uses_scribbles(binfo.get('needs_scribbles'), binfo.get('modes'))
    if mode == 'partial' and not uses:
        # a backend that ignores hints: a layer found by name is left alone; one the user chose is refused
        if config.get_property('scribble-layer') is not None:
            raise PluginError('the backend "%s" ignores scribbles: clear the scribble layer option, or choose '
                              'a backend that uses them' % binfo['name'], calling=True)
    elif mode in ('scribble', 'partial', 'reference'):
        scr = find_scribbles(image, source, config, frames, mode)
        if scr is None and needs:
            raise PluginError('there is no scribble layer: add a transparent layer named "Scribbles" above '
                              'the photo, paint colours on it, and run %s again' % mode.capitalize(),
                              calling=True)
        if scr is not None and scr.get_id() == source.get_id():
            raise PluginError('the scribble layer cannot be the photo layer itself: select the photo layer',
                              calling=True)
        ref = config.get_property('reference-layer') if mode == 'reference' else None
        if scr is not None and ref is not None and scr.get_id() == ref.get_id():
            raise PluginError('the scribble layer cannot be the reference layer too: clear one of them',
                              calling=True)
        if scr is not None and image.get_base_type() != Gimp.ImageBaseType.RGB:
            if needs:
                raise PluginError('the image is grayscale, so the scribble layer "%s" holds no colours: '
                                  'use Image > Mode > RGB, paint the scribbles again, and rerun'
                                  % scr.get_name(), calling=True)
            scr = None
        job['scribble_layer'] = scr
    if mode == 'partial':
        chan = config.get_property('mask-channel')
        if chan is None:
            if Gimp.Selection.is_empty(image):
                raise PluginError('Partial colorizes the selected area, but nothing is selected: select '
                                  'the region to colorize (feathered edges blend softly) or choose a '
                                  'channel as the mask', calling=True)
            chan = image.get_selection()
        job['mask_drawable'] = chan
    elif mode == 'reference' and not Gimp.Selection.is_empty(image):   # only the selection changes
        job['mask_drawable'] = image.get_selection()
    return job


def animation_frames(image, config, mode):
    """The layers to colorize as an animation's frames, in play order, or None for the selected layer only
    (the "frames" option: auto = when the layers are named like GIMP names a GIF's or APNG's frames)."""
    choice = config.get_property('frames') or 'auto'
    if choice == 'selected-layer':
        return None
    rows = layer_list(image)
    exclude = {lid for lid, name, _ in rows if name == SCRIBBLE_LAYER_NAME}
    chosen = [config.get_property('scribble-layer') if mode in ('scribble', 'partial', 'reference') else None,
              config.get_property('reference-layer') if mode == 'reference' else None]
    exclude |= {lay.get_id() for lay in chosen if lay is not None}
    if choice == 'auto' and not looks_like_animation(rows, exclude):
        return None
    frames = [Gimp.Layer.get_by_id(lid) for lid, _ in frame_layers(rows, exclude)]
    if len(frames) < 2:
        raise PluginError('"All layers are frames" needs at least two layers besides the scribbles; this image '
                          'has %d: choose "The selected layer only"' % len(frames), calling=True)
    return frames


# ----------------------------------------------------------------------------- the work
def colorize(procedure, run_mode, image, source, config, mode, backends, frames=None):
    """Colorize the selected layer (new layers above it), or with `frames` an animation (new images).

    Bad input is refused before anything is written (CALLING_ERROR). The source layer is only read; the image
    changes only once the engine's results are back, in one undo group, and is left as it was on any error.
    The job folder is removed whatever happens."""
    t_call, started = time.monotonic(), process_age()
    job = gather_inputs(image, source, config, mode, backends, frames)
    prewarm(job.python)   # a warm engine not running yet starts while the layers are read and written
    job.timing['plugin_start'] = started   # from the plug-in process's start to this call
    job.timing.update(STARTUP)
    Gimp.progress_init('Colorizing (%s)\u2026' % (job.backend or mode))
    cleanup_stale_workdirs()
    work = make_workdir(job.width * job.height * (36 * job.n + (20 if mode != 'auto' else 0))
                        + (16 * job.reference_size[0] * job.reference_size[1] if job.reference else 0))
    try:
        try:
            manifest = write_job(work, job, source)
            result = run_engine_with_progress(job, manifest, lambda which: fill_early(image, source, work, job, which))
            out = read_results(work, job)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if frames:
            open_frames(run_mode, frames, out, job, result)
            job.timing['transfer_out'] = time.monotonic() - job.t_out
        else:
            add_result_layers(image, source, job, out, result)
    finally:
        drop_early_layers(job)   # made early but never inserted (an error or a cancel): not left behind
    Gimp.progress_end()
    log_run_timing(job, t_call)
    if run_mode == Gimp.RunMode.INTERACTIVE and out['unc'] is not None and not frames:
        Gimp.message(' '.join(filter(None, (uncertainty_message(result, job.alpha, job.backend),
                                            suggest_message(out['places'])))))


def gather_inputs(image, source, config, mode, backends, frames):
    """The run's settings and layers, checked first: bad input raises PluginError(calling=True)."""
    backend = config.get_property('backend') or default_backend(backends, mode)
    if backend == 'none':   # no list from the engine yet: the engine picks its default for the mode
        backend = None
    binfo = next((b for b in backends if b['name'] == backend), {})
    layers = input_layers(image, source, mode, config, binfo, frames)
    reference = pick_reference(image, config) if mode == 'reference' else None
    if frames:   # every frame at the image's size and place
        width, height, ox, oy = image.get_width(), image.get_height(), 0, 0
    else:
        width, height = source.get_width(), source.get_height()
        _, ox, oy = source.get_offsets()
    n = len(frames) if frames else 1
    return Job(mode=mode, backend=backend, frames=frames, n=n, width=width, height=height, ox=ox, oy=oy,
               alpha=config.get_property('alpha'), seed=config.get_property('seed'),
               want_unc=config.get_property('uncertainty-layer'),
               want_iv=bool(config.get_property('interval-layers')) and not frames,   # photos only
               want_places=wants_suggestions(mode, frames),
               scribble_layer=layers['scribble_layer'], mask_drawable=layers['mask_drawable'],
               reference=reference, reference_size=reference[2] if reference else None,
               python=find_engine(config.get_property('engine-python') or None),
               options=collect_options(backends, mode, backend, config.get_property),
               bits=STORED_BITS.get(image.get_precision()), formats=dict(P.DEFAULT_FORMATS), source_pixels=None,
               t_out=None, early={},
               timing={'mode': mode, 'backend': backend, 'width': width, 'height': height, 'frames': n,
                       'megapixels': round(width * height / 1e6, 3)})


def pick_reference(image, config):
    """The photo the colours come from, checked: ('layer', layer, (w, h)) for a chosen layer, else ('image',
    image, (w, h)) for the chosen image or the most recently opened colour image that is not the target."""
    layer, chosen = config.get_property('reference-layer'), config.get_property('reference-image')
    default = default_reference([(im.get_id(), im.get_base_type() != Gimp.ImageBaseType.GRAY)
                                 for im in Gimp.get_images()], image.get_id())
    which = reference_source(layer.get_id() if layer is not None else None,
                             chosen.get_id() if chosen is not None else None, default)
    if which is None:
        raise PluginError(NO_REFERENCE, calling=True)
    if which[0] == 'layer':
        owner = layer.get_image()
        if not layer.is_layer() or layer.is_group_layer():
            raise PluginError('the reference layer must be a plain layer (not a group or mask)', calling=True)
        if owner is not None and owner.get_base_type() == Gimp.ImageBaseType.GRAY:
            raise PluginError(NO_COLOUR, calling=True)
        return ('layer', layer, (layer.get_width(), layer.get_height()))
    ref = chosen if chosen is not None else Gimp.Image.get_by_id(default)
    if ref.get_base_type() == Gimp.ImageBaseType.GRAY:
        raise PluginError(NO_COLOUR, calling=True)
    if not any(lay.get_visible() for lay in ref.get_layers()):
        raise PluginError('the reference image shows nothing (every layer is hidden): show its layers or choose '
                          'another image', calling=True)
    return ('image', ref, (ref.get_width(), ref.get_height()))


def read_reference(reference):
    """The reference's pixels as the protocol's RGBA floats at its own size: a layer as it is, an image as it
    shows (its visible layers merged on a copy that is deleted after; the image itself is not touched)."""
    kind, ref, _ = reference
    if kind == 'layer':
        return read_pixels(ref, RGBA)
    tops = ref.get_layers()
    if not merge_needed([(l.get_width(), l.get_height()) + tuple(l.get_offsets()[1:]) + (l.get_visible(),)
                         for l in tops], ref.get_width(), ref.get_height()):
        return read_pixels(tops[0], RGBA)
    copy = ref.duplicate()
    try:
        copy.undo_disable()
        merged = copy.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
        _, dx, dy = merged.get_offsets()
        return read_pixels(merged, RGBA, -dx, -dy, ref.get_width(), ref.get_height())
    finally:
        copy.delete()


def read_aligned(job, drawable, fmt):
    """The drawable's pixels over the job's rectangle (zeros where it does not reach)."""
    _, dx, dy = drawable.get_offsets()
    return read_pixels(drawable, fmt, job.ox - dx, job.oy - dy, job.width, job.height)


def read_timed(job, drawable, fmt, step):
    """read_aligned, its seconds logged as the run's timing step."""
    t0 = time.monotonic()
    data = read_aligned(job, drawable, fmt)
    job.timing[step] = time.monotonic() - t0
    return data


def write_job(work, job, source):
    """The photo (or every frame), the scribbles and the mask as the protocol's buffers, then the manifest;
    returns the manifest's path."""
    t0 = time.monotonic()
    formats = job.formats   # the defaults (gather_inputs); a photo's layers in their own format
    if job.frames:   # an animation's frames open as new images: floats
        src = b''.join(read_aligned(job, lay, RGBA) for lay in job.frames)
    else:   # kept: keep_source_exact compares with it, and an alpha goes back into the results
        for field in ('image',) + RESULTS:
            formats[field] = transfer_format(field, job.bits, source.is_gray(), source.has_alpha())
        src = job.source_pixels = read_pixels(source, formats['image'])
    job.timing['read_source'] = time.monotonic() - t0
    write_buffer(work, P.IMAGE_FILE, src)
    del src
    if job.scribble_layer is not None:
        scr = job.scribble_layer
        formats['scribbles'] = transfer_format('scribbles', job.bits, scr.is_gray(), scr.has_alpha())
        scribbles = read_timed(job, scr, formats['scribbles'], 'read_scribbles')
        write_buffer(work, P.SCRIBBLES_FILE, scribbles)
        del scribbles
    if job.mask_drawable is not None:
        formats['mask'] = transfer_format('mask', job.bits)
        mask = read_timed(job, job.mask_drawable, formats['mask'], 'read_mask')
        if mask == bytes(len(mask)):
            raise PluginError('the selection (or mask channel) does not cover any pixel of the layer "%s": '
                              'select part of that layer' % source.get_name(), calling=True)
        write_buffer(work, P.MASK_FILE, mask)
    if job.reference is not None:
        t1 = time.monotonic()
        reference = read_reference(job.reference)
        job.timing['read_reference'] = time.monotonic() - t1
        write_buffer(work, P.REFERENCE_FILE, reference)
        del reference
    manifest = P.write_manifest(
        work, job.mode, job.backend, job.width, job.height, options=job.options, seed=job.seed, alpha=job.alpha,
        uncertainty=job.want_unc, has_scribbles=job.scribble_layer is not None,
        has_mask=job.mask_drawable is not None, frames=job.n, intervals=job.want_iv, suggest=job.want_places,
        combine=[draws_over_previous(l.get_name()) for l in job.frames] if job.frames else None,
        reference_size=job.reference_size, formats=formats)
    job.timing['transfer_in'] = time.monotonic() - t0
    return manifest


def run_engine_with_progress(job, manifest, on_written=None):
    """The engine's run, its progress on GIMP's progress bar; returns its result (the backend it used too).
    on_written(which) is called when the engine says a result buffer is whole: 'rgb' (P.COLOURS_WRITTEN), 'unc'
    (P.UNCERTAINTY_WRITTEN)."""
    label = job.backend or job.mode
    written = {P.COLOURS_WRITTEN: 'rgb', P.UNCERTAINTY_WRITTEN: 'unc'}

    def on_progress(frac, msg):
        Gimp.progress_update(0.02 + 0.9 * frac)
        if msg:
            Gimp.progress_set_text('%s (%s)' % (msg, label))
        if msg in written and on_written is not None:
            on_written(written[msg])
    result, t_engine = run_engine(job.python, manifest, on_progress=on_progress)
    job.timing.update(t_engine)
    # the engine's own steps (reading its inputs, the colorization, the suggestions, writing), where it says them
    job.timing.update({'engine_' + k: v for k, v in (result.get('info') or {}).items()
                       if k.startswith('seconds_') and isinstance(v, (int, float))})
    job.backend = job.timing['backend'] = result.get('backend') or job.backend or 'engine'
    return result


# which -> the engine's buffer, its manifest field, the layer's name (for a backend) and the word for it
EARLY = {'rgb': (P.RESULT_FILE, 'output', colorized_layer_name, 'colorized'),
         'unc': (P.UNCERTAINTY_FILE, 'uncertainty_output', uncertainty_layer_name, 'uncertainty')}


def fill_early(image, source, work, job, which):
    """A result layer made and filled as soon as the engine has written its buffer ('rgb': the colorized layer,
    'unc': the uncertainty layer), while it writes the rest and finds the places to paint (12 MP: GIMP's tile
    transfer, 0.1-0.2 s a layer, off the wait); inserted later with the others, in one undo group
    (result_layers), or deleted (drop_early_layers). A photo in an RGB image only: a GRAY image becomes RGB in
    that undo group, and a layer made for it before would be GRAY (GIMP then refuses it without an error). Any
    trouble here leaves the layer to the usual path."""
    if (job.frames or which in job.early or image.get_base_type() != Gimp.ImageBaseType.RGB
            or (which == 'unc' and not job.want_unc)):
        return
    name, field, layer_name, word = EARLY[which]
    t0 = time.monotonic()
    try:
        data = read_buffer(work, name, P.buffer_bytes(field, job.width, job.height, 1, job.formats[field]))
        pixels = with_source_alpha(source, job, {'rgb': data if which == 'rgb' else None,
                                                 'unc': data if which == 'unc' else None, 'bounds': []})
        lay = Gimp.Layer.new(image, layer_name(job.backend), job.width, job.height, pixels['type'], 100.0,
                             Gimp.LayerMode.NORMAL)
        try:
            write_pixels(lay, pixels[which + '_fmt'], pixels[which])
        except Exception:
            lay.delete()
            raise
    except Exception as exc:
        log('the %s layer could not be filled early (%s); it is filled after the run' % (word, exc))
        return
    job.early[which] = lay
    job.timing[word + '_early'] = time.monotonic() - t0


def drop_early_layers(job):
    """Delete the layers filled early if they were never inserted."""
    made, job.early = list(job.early.values()), {}
    for lay in made:
        try:
            lay.delete()
        except Exception:
            pass


def read_results(work, job):
    """The engine's buffers, read before the job folder goes: {'rgb', 'unc', 'opacity', 'bounds'} ('rgb' or
    'unc' None when that layer was filled early)."""
    job.t_out = time.monotonic()
    w, h, n = job.width, job.height, job.n

    def size(field, frames=1):
        return P.buffer_bytes(field, w, h, frames, job.formats[field])
    return {
        'rgb': read_buffer(work, P.RESULT_FILE, size('output', n)) if 'rgb' not in job.early else None,
        'unc': read_buffer(work, P.UNCERTAINTY_FILE, size('uncertainty_output', n))
        if job.want_unc and 'unc' not in job.early else None,
        'opacity': read_buffer(work, P.RESULT_ALPHA_FILE, size('output_alpha', n)) if job.frames else None,
        'bounds': [read_buffer(work, f, size(field)) for f, field in
                   ((P.INTERVALS_LO_FILE, 'intervals_lo'), (P.INTERVALS_HI_FILE, 'intervals_hi'))]
        if job.want_iv else [],
        'places': read_places(work) if job.want_places else [],
    }


# ----------------------------------------------------------------------------- the result layers
def add_result_layers(image, source, job, out, result):
    """The results as new layers above the source, in one undo group (see insert_in_one_undo_group)."""
    pixels = with_source_alpha(source, job, out)
    job.timing['read_results'] = prepared = time.monotonic() - job.t_out
    t0 = time.monotonic()
    insert_in_one_undo_group(image, source, job, pixels, result)
    job.timing['write_layers'] = time.monotonic() - t0
    job.timing['transfer_out'] = prepared + job.timing['write_layers']
    Gimp.progress_update(1.0)
    Gimp.displays_flush()


def with_source_alpha(source, job, out):
    """The results' pixels and formats, with the source layer's alpha put back when it has one."""
    rgb, unc, bounds = out['rgb'], out['unc'], out['bounds']
    places = out.get('places') or []
    if source.has_alpha():
        src = job.source_pixels
        rgb = interleave(rgb, src, 3) if rgb is not None else None
        unc = interleave(unc, src, 1) if unc is not None else None
        bounds = [interleave(b, src, 3) for b in bounds]
        return {'rgb': rgb, 'unc': unc, 'bounds': bounds, 'rgb_fmt': RGBA, 'unc_fmt': GRAYA,
                'type': Gimp.ImageType.RGBA_IMAGE, 'places': places}
    return {'rgb': rgb, 'unc': unc, 'bounds': bounds, 'rgb_fmt': job.formats['output'],
            'unc_fmt': job.formats['uncertainty_output'], 'type': Gimp.ImageType.RGB_IMAGE, 'places': places}


def insert_in_one_undo_group(image, source, job, pixels, result):
    """Everything that can fail for a reason of its own happened before: now change the image, in one undo
    group, with the layers filled before they are inserted. On any error the image is put back as it was
    (layers made so far removed, a GRAY image converted back) and the error goes on."""
    made, converted = [], False
    image.undo_group_start()
    try:
        if image.get_base_type() != Gimp.ImageBaseType.RGB:
            image.convert_rgb()   # a GRAY image cannot hold the colorized layer
            converted = True
            keep_source_exact(source, job)
        parent, pos = source.get_parent(), image.get_item_position(source)
        stack, shifts = result_layers(image, job, pixels, result, made)
        for lay in reversed(stack):   # colorized directly above the source, the hidden layers above it
            image.insert_layer(lay, parent, pos)
            dx, dy = shifts.get(lay.get_id(), (0, 0))
            lay.set_offsets(job.ox + dx, job.oy + dy)
        image.set_selected_layers([stack[-1]])
    except Exception:
        put_back(image, made, converted)
        raise
    finally:
        image.undo_group_end()


def keep_source_exact(source, job):
    """After a GRAY image's conversion to RGB, the source layer must read as it did before the run, bit for
    bit. The conversion goes through babl and the image's colour profile, and a conversion can move the last
    bits (seen once, on a fresh GIMP root); where it did, the pixels read before the run are put back, inside
    the same undo group, so the source is never changed."""
    if job.source_pixels is None:
        return
    t0 = time.monotonic()
    if read_pixels(source, job.formats['image']) != job.source_pixels:
        write_pixels(source, job.formats['image'], job.source_pixels)
        log('the GRAY -> RGB conversion moved the source layer\'s values; put back as they were')
        job.timing['source_restored'] = True
    job.timing['source_check'] = time.monotonic() - t0


def result_layers(image, job, pixels, result, made):
    """The new layers, filled, top to bottom: where to paint, interval high, interval low, uncertainty (all
    hidden), colorized; and {layer id: (dx, dy)} for a layer placed off the source's corner (where to paint
    covers only its circles). Each is appended to `made` as soon as it exists, for put_back."""

    def new_layer(name, fmt, data):
        lay = Gimp.Layer.new(image, name, job.width, job.height, pixels['type'], 100.0, Gimp.LayerMode.NORMAL)
        made.append(lay)
        write_pixels(lay, fmt, data)
        return lay

    def early_or_new(which, name, fmt):
        lay = job.early.pop(which, None)   # filled while the engine wrote the rest (fill_early)
        if lay is None:
            return new_layer(name, fmt, pixels[which])
        made.append(lay)
        lay.set_name(name)   # the backend that ran, known now
        return lay
    stack = [early_or_new('rgb', colorized_layer_name(job.backend), pixels['rgb_fmt'])]
    if pixels['unc'] is not None or 'unc' in job.early:
        ulayer = early_or_new('unc', uncertainty_layer_name(job.backend), pixels['unc_fmt'])
        text = uncertainty_parasite_text(result, job.alpha, job.backend)
        ulayer.attach_parasite(Gimp.Parasite.new(PARASITE_NAME, 1, list(text.encode('utf-8'))))
        ulayer.set_visible(False)   # shown on demand: eye icon in the Layers dialog
        stack.insert(0, ulayer)
    for which, data in zip(('low', 'high'), pixels['bounds']):
        ilayer = new_layer(interval_layer_name(which, job.backend), pixels['rgb_fmt'], data)
        ilayer.set_visible(False)
        stack.insert(0, ilayer)
    shifts = {}
    if pixels.get('places'):   # numbered circles on a transparent layer, hidden: exports are unaffected
        tiles = place_tiles(pixels['places'], job.width, job.height)
        bx, by, bw, bh = tiles_bounds(tiles)   # only as large as its circles: a 12 MP layer costs its fill
        slayer = Gimp.Layer.new(image, SUGGEST_LAYER_NAME, bw, bh, Gimp.ImageType.RGBA_IMAGE, 100.0,
                                Gimp.LayerMode.NORMAL)
        made.append(slayer)
        slayer.fill(Gimp.FillType.TRANSPARENT)
        buf = slayer.get_buffer()
        for x, y, w, h, data in tiles:
            buf.set(Gegl.Rectangle.new(x - bx, y - by, w, h), RGBA, data)
        buf.flush()
        slayer.update(0, 0, bw, bh)
        slayer.set_visible(False)
        stack.insert(0, slayer)
        shifts[slayer.get_id()] = (bx, by)
    return stack, shifts


def put_back(image, made, converted):
    """Undo a half-done insertion by hand: remove (or delete) the layers made, convert a GRAY image back."""
    for lay in made:
        try:
            if lay.get_image() is not None and image.get_item_position(lay) >= 0:
                image.remove_layer(lay)
            else:
                lay.delete()
        except Exception:
            pass
    if converted:
        try:
            image.convert_grayscale()
        except Exception:
            pass


def log_run_timing(job, t_call):
    """The run's timing record (seconds per step) to $COLORIZE_TIMING_LOG and stderr."""
    timing = job.timing
    timing['total'] = time.monotonic() - t_call
    timing['transfer'] = timing['transfer_in'] + timing['transfer_out']
    if not job.frames:
        timing['engine_start_plus_transfer'] = timing['engine_start'] + timing['transfer']
    log_timing({k: (round(v, 4) if isinstance(v, float) else v) for k, v in timing.items()})


def open_frames(run_mode, frames, out, job, result):
    """An animation's results as new images, one layer per frame with the source layer's name and timing, so
    that File > Export As GIF gives the colorized animation. (GIMP 3.0's GIF export writes hidden layers as
    frames too and refuses layer groups, so results added to the source image could not be exported as an
    animation; the source image stays as it was.)"""
    w, h, opacity, unc = job.width, job.height, out['opacity'], out['unc']
    made = []
    for kind, data, channels, fmt in (('colorized', out['rgb'], 3, RGBA), ('uncertainty', unc, 1, GRAYA)):
        if data is None:
            continue
        base = Gimp.ImageBaseType.RGB if channels == 3 else Gimp.ImageBaseType.GRAY
        ltype = Gimp.ImageType.RGBA_IMAGE if channels == 3 else Gimp.ImageType.GRAYA_IMAGE
        new = Gimp.Image.new(w, h, base)
        made.append(new)
        new.undo_disable()
        step, astep = w * h * channels * 4, w * h * 4
        for k, layer in enumerate(frames):   # play order: each frame goes on top, as GIMP stacks a loaded GIF
            lay = Gimp.Layer.new(new, colorized_frame_name(layer.get_name()), w, h, ltype, 100.0,
                                 Gimp.LayerMode.NORMAL)
            write_pixels(lay, fmt, interleave(data[k * step:(k + 1) * step], opacity[k * astep:(k + 1) * astep],
                                              channels))
            new.insert_layer(lay, None, 0)
        if kind == 'uncertainty':
            text = uncertainty_parasite_text(result, job.alpha, job.backend)
            new.attach_parasite(Gimp.Parasite.new(PARASITE_NAME, 1, list(text.encode('utf-8'))))
        new.undo_enable()
        if run_mode == Gimp.RunMode.INTERACTIVE:
            Gimp.Display.new(new)
    Gimp.displays_flush()
    if run_mode == Gimp.RunMode.INTERACTIVE:
        Gimp.message('The colorized animation (%d frames) opened as a new image%s: export it with File > Export '
                     'As... (GIF keeps the frame times from the layer names).'
                     % (len(frames), ', its uncertainty as another' if unc is not None else ''))
    return made


def add_scribble_layer(image, source):
    """Interactive Scribble without a scribble layer: add an empty one for the user to paint on."""
    image.undo_group_start()
    try:
        if image.get_base_type() != Gimp.ImageBaseType.RGB:
            image.convert_rgb()    # a GRAY image would turn painted colours gray
        lay = Gimp.Layer.new(image, SCRIBBLE_LAYER_NAME, image.get_width(), image.get_height(),
                             Gimp.ImageType.RGBA_IMAGE, 100.0, Gimp.LayerMode.NORMAL)
        lay.fill(Gimp.FillType.TRANSPARENT)
        image.insert_layer(lay, source.get_parent(), image.get_item_position(source))
        image.set_selected_layers([lay])
    finally:
        image.undo_group_end()
    Gimp.displays_flush()
    Gimp.message('A transparent layer "Scribbles" was added above "%s". Paint colours on it with the '
                 'Paintbrush (a few strokes per region are enough), then run Filters > Colorize > '
                 'Scribble again.' % source.get_name())


def pick_source(image, drawables):
    if len(drawables) != 1 or not drawables[0].is_layer() or drawables[0].is_group_layer():
        raise PluginError('select exactly one layer (not a group or mask) holding the photo', calling=True)
    return drawables[0]


def prewarm_engine(config):
    """Start the warm engine as the dialog opens (colorize_engine.prewarm); an engine that cannot be found is
    the run's to report, after the dialog."""
    try:
        started = prewarm(find_engine(config.get_property('engine-python') or None))
    except PluginError:
        return
    if started:
        log('the engine is starting while the dialog is open')


def run(procedure, run_mode, image, drawables, config, mode):
    backends = load_backends()
    try:
        source = pick_source(image, drawables)
        if run_mode == Gimp.RunMode.INTERACTIVE:
            if mode in ('scribble', 'partial', 'reference') and source.get_name() == SCRIBBLE_LAYER_NAME:
                # the user just painted and left the Scribbles layer selected: the photo is below it
                below = [l for l in image.get_layers()
                         if image.get_item_position(l) > image.get_item_position(source)
                         and not is_result_layer(l)]
                if below:
                    source = below[0]
            if mode == 'scribble':
                if config.get_property('scribble-layer') is None and \
                        pick_scribble_layer(layer_list(image), source.get_id()) is None:
                    add_scribble_layer(image, source)
                    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())
            if mode == 'reference' and config.get_property('reference-image') is None:
                default = default_reference([(im.get_id(), True) for im in colour_images()], image.get_id())
                if default is not None:   # the dialog opens on the default reference
                    config.set_property('reference-image', Gimp.Image.get_by_id(default))
            prewarm_engine(config)   # the engine loads while the user chooses
            if not run_dialog(procedure, config, mode, backends, image):
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        colorize(procedure, run_mode, image, source, config, mode, backends, animation_frames(image, config, mode))
    except Cancelled:
        Gimp.progress_end()
        return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
    except PluginError as exc:
        Gimp.progress_end()
        status = Gimp.PDBStatusType.CALLING_ERROR if exc.calling else Gimp.PDBStatusType.EXECUTION_ERROR
        log('error:', exc)
        return procedure.new_return_values(status, GLib.Error('Colorize: %s' % exc))
    except Exception as exc:   # never let an exception escape: GIMP would only say "no return values"
        import traceback
        traceback.print_exc()
        Gimp.progress_end()
        return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(
            'Colorize: internal error: %s: %s' % (type(exc).__name__, exc)))
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


def add_option_argument(procedure, pname, opt):
    """A backend option as a typed procedure argument: the engine's name and type, the dialog's words."""
    label, _, hint = option_words(opt)
    kind = opt.get('type')
    try:
        if kind == 'int':
            lo, hi = option_bounds(opt)
            procedure.add_int_argument(pname, label, hint, lo, hi, int(opt.get('default') or 0), RW)
        elif kind == 'float':
            lo, hi = option_bounds(opt)
            procedure.add_double_argument(pname, label, hint, lo, hi, float(opt.get('default') or 0), RW)
        elif kind == 'bool':
            procedure.add_boolean_argument(pname, label, hint, bool(opt.get('default')), RW)
        elif kind == 'choice' and opt.get('choices'):
            c = Gimp.Choice.new()
            for i, v in enumerate(opt['choices']):
                c.add(str(v), i, str(v), '')
            procedure.add_choice_argument(pname, label, hint, c, str(opt.get('default', opt['choices'][0])), RW)
        else:
            procedure.add_string_argument(pname, label, hint, str(opt.get('default') or ''), RW)
    except Exception as exc:  # one odd option never hides the procedure
        log('option %s skipped: %s' % (pname, exc))


class Colorize(Gimp.PlugIn):
    def do_set_i18n(self, procname):
        return False

    def do_query_procedures(self):
        # the modes this plug-in has a menu item and dialog for
        return [PROC_NAMES[m] for m in P.MODES if m in MENU_LABELS]

    def do_create_procedure(self, name):
        STARTUP['plugin_create'] = process_age()
        # This process only moves pixels in and out of GEGL buffers; every GEGL operation runs in GIMP's core. So
        # GEGL starts without its ~200 operation modules: 0.07 s instead of 0.14 s of every run (GIMP 3.0).
        os.environ['GEGL_PATH'] = os.path.dirname(os.path.abspath(__file__))   # no modules here
        Gegl.init(None)
        STARTUP['plugin_gegl'] = process_age()
        mode = {v: k for k, v in PROC_NAMES.items()}[name]
        backends = load_backends()
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, mode)
        procedure.set_image_types('RGB*, GRAY*')
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label(MENU_LABELS[mode])
        procedure.add_menu_path(MENU_PATH)
        procedure.set_documentation(BLURBS[mode][0], BLURBS[mode][1], name)
        procedure.set_attribution('colorcore contributors', 'colorcore contributors', '2026')
        if mode in ('scribble', 'partial'):
            procedure.add_layer_argument(
                'scribble-layer', '_Scribble layer (empty: "Scribbles")',
                'Layer with painted colour hints (none: the layer named "Scribbles", else the topmost other '
                'layer with alpha)' + (' -- used by backends that take hints' if mode == 'partial' else ''),
                True, RW)
        if mode == 'reference':
            procedure.add_image_argument(
                'reference-image', 'Reference _image (empty: the latest colour image)',
                'Open image whose colours are used, as it shows (none: the most recently opened colour image '
                'other than this one)', True, RW)
            procedure.add_layer_argument(
                'reference-layer', 'Reference la_yer (instead of an image)',
                'A layer whose colours are used (of this image or another); when set, it is used instead of the '
                'reference image', True, RW)
            procedure.add_layer_argument(
                'scribble-layer', '_Scribble layer (empty: "Scribbles")',
                'Layer with painted colours that override the reference where painted (none: the layer named '
                '"Scribbles", if any)', True, RW)
        if mode == 'partial':
            procedure.add_channel_argument(
                'mask-channel', '_Mask channel (empty: the selection)',
                'Channel whose white parts are colorized (none: the selection)', True, RW)
        rows = backends_for_mode(backends, mode)
        choice = Gimp.Choice.new()
        for i, b in enumerate(rows):
            choice.add(b['name'], i, backend_choice_label(b), b.get('help') or '')
        default = default_backend(backends, mode)
        if not rows:
            choice.add('none', 0, '(engine not installed: run install.py)', '')
            default = 'none'
        procedure.add_choice_argument('backend', '_Backend', 'Colorization backend (engine plugin)',
                                      choice, default, RW)
        lo, hi = P.alpha_range(backends, mode)   # the levels the engine is calibrated for
        procedure.add_double_argument('alpha', 'Uncertainty _level \u03b1',
                                      'Allowed share of pixels whose true colour lies outside the uncertainty '
                                      'radius (0.1 = 90%% coverage; calibrated from %g to %g)' % (lo, hi),
                                      lo, hi, min(max(P.DEFAULT_ALPHA, lo), hi), RW)
        procedure.add_boolean_argument('uncertainty-layer', 'Add _uncertainty layer',
                                       'Add the "Uncertainty (<backend>)" layer', True, RW)
        procedure.add_boolean_argument('interval-layers', 'Add RGB _interval layers',
                                       'Add two hidden layers, "RGB interval low/high (<backend>)": at each pixel '
                                       'their R, G and B bound the true value with probability 1 - alpha '
                                       '(photos only, backends with calibrated intervals)', False, RW)
        procedure.add_int_argument('seed', 'Ran_dom seed', 'Seed for reproducible results (-1: random)',
                                   -1, 2 ** 31 - 1, -1, RW)
        frames = Gimp.Choice.new()
        for i, (value, label) in enumerate(FRAMES_CHOICES):
            frames.add(value, i, label, '')
        procedure.add_choice_argument('frames', '_Frames', 'Colorize every layer as a frame of an animation (its '
                                      'results open as new images, ready to export as GIF), or only the selected '
                                      'layer', frames, 'auto', RW)
        procedure.add_string_argument('engine-python', 'Engine interpreter',
                                      'Python of the colorcore engine (empty: the one recorded by install.py)',
                                      '', RW)
        for pname, _, opt in option_args(backends, mode):
            add_option_argument(procedure, pname, opt)
        STARTUP['plugin_created'] = process_age()
        return procedure


Gimp.main(Colorize.__gtype__, sys.argv)
