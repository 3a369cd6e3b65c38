#!/usr/bin/env python3
# Colorize: GIMP 3 plug-in, Filters > Colorize > Auto... / Scribble... / Partial...
#
# Thin GIMP side (stdlib + gi only; GIMP's own Python may lack numpy): reads the
# selected layer (and the scribble layer or the mask) as raw float32 through
# GEGL, hands them to the colorcore engine -- a separate Python in its own venv,
# recorded by install.py in engine.json beside this file -- and adds the
# "Colorized (<backend>)" and "Uncertainty (<backend>)" layers in one undo group.
# The gi-free logic lives in colorize_helpers.py (unit-tested without GIMP).
import os
import shutil
import sys
import time

import gi
gi.require_version('Gimp', '3.0')
gi.require_version('Gegl', '0.4')
from gi.repository import Gimp, Gegl, GObject, GLib  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import colorize_helpers as H  # noqa: E402

RGBA = "R'G'B'A float"
RGB = "R'G'B' float"
MASK = "Y float"          # selections and channels are stored linear
GRAYA = "Y'A float"
GRAY = "Y' float"
RW = GObject.ParamFlags.READWRITE
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
}


def log(*args):
    print('[colorize]', *args, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- pixels
def read_pixels(drawable, fmt, x=0, y=0, w=None, h=None):
    """Raw float bytes of a rectangle in the drawable's own coordinates; zeros outside it."""
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
    return layer.get_name().startswith(H.RESULT_PREFIXES)


# ----------------------------------------------------------------------------- dialog
def run_dialog(procedure, config, mode, backends):
    gi.require_version('GimpUi', '3.0')
    from gi.repository import GimpUi
    GimpUi.init(procedure.get_name())
    title = {'auto': 'Colorize automatically', 'scribble': 'Colorize from scribbles',
             'partial': 'Colorize the selection'}[mode]
    dialog = GimpUi.ProcedureDialog.new(procedure, config, title)
    names = []
    if mode == 'scribble':
        names.append('scribble-layer')
    if mode == 'partial':
        names += ['mask-channel', 'scribble-layer']
    names.append('backend')
    for b in H.backends_for_mode(backends, mode):
        props = [p for p, bname, _ in H.option_args(backends, mode) if bname == b['name']]
        if not props:
            continue
        box_id, frame_id, label_id = b['name'] + '-box', b['name'] + '-frame', b['name'] + '-title'
        dialog.get_label(label_id, '%s options' % (b.get('label') or b['name']), False, False)
        dialog.fill_box(box_id, props)
        dialog.fill_frame(frame_id, label_id, False, box_id)
        try:  # only the chosen backend's options are editable
            values = Gimp.ValueArray.new(1)
            values.append(GObject.Value(GObject.TYPE_STRING, b['name']))
            dialog.set_sensitive_if_in(frame_id, None, 'backend', values, True)
        except Exception as exc:  # older 3.0.x: all frames stay editable
            log('set_sensitive_if_in:', exc)
        names.append(frame_id)
    names += ['alpha', 'uncertainty-layer', 'interval-layers', 'seed', 'frames']
    dialog.fill(names)
    if os.environ.get('COLORIZE_TEST_DIALOG'):   # tests/e2e only: screenshot, then OK
        _test_autoclose(dialog, os.environ['COLORIZE_TEST_DIALOG'], mode)
    ok = dialog.run()
    dialog.destroy()
    return ok


def _test_autoclose(dialog, folder, mode):
    gi.require_version('Gtk', '3.0')
    gi.require_version('Gdk', '3.0')
    from gi.repository import Gtk, Gdk

    def snap():
        try:
            win = dialog.get_window()
            w, h = win.get_width(), win.get_height()
            pix = Gdk.pixbuf_get_from_window(win, 0, 0, w, h)
            pix.savev(os.path.join(folder, 'dialog-%s.png' % mode), 'png', [], [])
            log('dialog screenshot %dx%d saved' % (w, h))
        except Exception as exc:
            log('dialog screenshot failed:', exc)
        dialog.response(Gtk.ResponseType.OK)
        return False
    GLib.timeout_add(1500, snap)


# ----------------------------------------------------------------------------- the work
def find_scribbles(image, source, config, frames=None):
    scr = config.get_property('scribble-layer')
    if scr is None and frames:   # an animation: every other layer is a frame, so only the named one
        scr = next((l for l in image.get_layers() if l.get_name() == H.SCRIBBLE_LAYER_NAME), None)
    elif scr is None:
        lid = H.pick_scribble_layer(layer_list(image), source.get_id())
        scr = Gimp.Layer.get_by_id(lid) if lid is not None else None
    return scr


def gather(image, source, mode, config, binfo, frames=None):
    """Decide the inputs; returns dict or raises H.PluginError (calling=True for bad input)."""
    job = {'scribble_layer': None, 'mask_drawable': None}
    needs = mode == 'scribble' or bool(binfo.get('needs_scribbles'))
    uses = mode == 'scribble' or not binfo or H.P.uses_scribbles(binfo.get('needs_scribbles'), binfo.get('modes'))
    if mode == 'partial' and not uses:
        # a backend that ignores hints: a layer found by name is left alone; one the user chose is refused
        if config.get_property('scribble-layer') is not None:
            raise H.PluginError('the backend "%s" ignores scribbles: clear the scribble layer option, or choose '
                                'a backend that uses them' % binfo['name'], calling=True)
    elif mode in ('scribble', 'partial'):
        scr = find_scribbles(image, source, config, frames)
        if scr is None and needs:
            raise H.PluginError('there is no scribble layer: add a transparent layer named "Scribbles" above '
                                'the photo, paint colours on it, and run %s again' % mode.capitalize(),
                                calling=True)
        if scr is not None and scr.get_id() == source.get_id():
            raise H.PluginError('the scribble layer cannot be the photo layer itself: select the photo layer',
                                calling=True)
        if scr is not None and image.get_base_type() != Gimp.ImageBaseType.RGB:
            if needs:
                raise H.PluginError('the image is grayscale, so the scribble layer "%s" holds no colours: '
                                    'use Image > Mode > RGB, paint the scribbles again, and rerun'
                                    % scr.get_name(), calling=True)
            scr = None
        job['scribble_layer'] = scr
    if mode == 'partial':
        chan = config.get_property('mask-channel')
        if chan is None:
            if Gimp.Selection.is_empty(image):
                raise H.PluginError('Partial colorizes the selected area, but nothing is selected: select '
                                    'the region to colorize (feathered edges blend softly) or choose a '
                                    'channel as the mask', calling=True)
            chan = image.get_selection()
        job['mask_drawable'] = chan
    return job


def animation_frames(image, config, mode):
    """The layers to colorize as an animation's frames, in play order, or None for the selected layer only
    (the "frames" option: auto = when the layers are named like GIMP names a GIF's or APNG's frames)."""
    choice = config.get_property('frames') or 'auto'
    if choice == 'selected-layer':
        return None
    rows = layer_list(image)
    exclude = {lid for lid, name, _ in rows if name == H.SCRIBBLE_LAYER_NAME}
    chosen = config.get_property('scribble-layer') if mode in ('scribble', 'partial') else None
    if chosen is not None:
        exclude.add(chosen.get_id())
    if choice == 'auto' and not H.looks_like_animation(rows, exclude):
        return None
    frames = [Gimp.Layer.get_by_id(lid) for lid, _ in H.frame_layers(rows, exclude)]
    if len(frames) < 2:
        raise H.PluginError('"All layers are frames" needs at least two layers besides the scribbles; this image '
                            'has %d: choose "The selected layer only"' % len(frames), calling=True)
    return frames


def colorize(procedure, run_mode, image, source, config, mode, backends, frames=None):
    """Colorize the selected layer (new layers above it), or with `frames` an animation (new images)."""
    t_call = time.monotonic()
    timing = {'mode': mode}
    backend = config.get_property('backend') or H.default_backend(backends, mode)
    if backend == 'none':   # no list from the engine yet: the engine picks its default for the mode
        backend = None
    alpha = config.get_property('alpha')
    want_unc = config.get_property('uncertainty-layer')
    want_iv = bool(config.get_property('interval-layers')) and not frames   # photos only
    seed = config.get_property('seed')
    binfo = next((b for b in backends if b['name'] == backend), {})
    job = gather(image, source, mode, config, binfo, frames)       # bad input first: CALLING_ERROR
    python = H.find_engine(config.get_property('engine-python') or None)
    options = H.collect_options(backends, mode, backend, config.get_property)

    n = len(frames) if frames else 1
    if frames:   # every frame at the image's size and place
        W, H_, ox, oy = image.get_width(), image.get_height(), 0, 0
    else:
        W, H_ = source.get_width(), source.get_height()
        _, ox, oy = source.get_offsets()
    timing.update(backend=backend, width=W, height=H_, frames=n, megapixels=round(W * H_ / 1e6, 3))
    Gimp.progress_init('Colorizing (%s)\u2026' % (backend or mode))
    H.cleanup_stale_workdirs()
    work = H.make_workdir(W * H_ * (36 * n + (20 if mode != 'auto' else 0)))
    try:
        t0 = time.monotonic()
        if frames:
            layers = []
            for lay in frames:
                _, lx, ly = lay.get_offsets()
                layers.append(read_pixels(lay, RGBA, -lx, -ly, W, H_))
            src = b''.join(layers)
            del layers
        else:
            src = read_pixels(source, RGBA)
        timing['read_source'] = time.monotonic() - t0
        H.write_buffer(work, H.P.IMAGE_FILE, src)
        has_scr = job['scribble_layer'] is not None
        if has_scr:
            scr = job['scribble_layer']
            _, sx, sy = scr.get_offsets()
            t1 = time.monotonic()
            scr_px = read_pixels(scr, RGBA, ox - sx, oy - sy, W, H_)
            timing['read_scribbles'] = time.monotonic() - t1
            H.write_buffer(work, H.P.SCRIBBLES_FILE, scr_px)
            del scr_px
        has_mask = job['mask_drawable'] is not None
        if has_mask:
            m = job['mask_drawable']
            _, mx, my = m.get_offsets()
            t1 = time.monotonic()
            mask = read_pixels(m, MASK, ox - mx, oy - my, W, H_)
            timing['read_mask'] = time.monotonic() - t1
            if mask == bytes(len(mask)):
                raise H.PluginError('the selection (or mask channel) does not cover any pixel of the layer '
                                    '"%s": select part of that layer' % source.get_name(), calling=True)
            H.write_buffer(work, H.P.MASK_FILE, mask)
        manifest = H.write_manifest(work, mode, backend, W, H_, options=options, seed=seed, alpha=alpha,
                                    uncertainty=want_unc, has_scribbles=has_scr, has_mask=has_mask, frames=n,
                                    intervals=want_iv,
                                    combine=[H.draws_over_previous(l.get_name()) for l in frames] if frames else None)
        timing['transfer_in'] = time.monotonic() - t0

        def on_progress(frac, msg):
            Gimp.progress_update(0.02 + 0.9 * frac)
            if msg:
                Gimp.progress_set_text('%s (%s)' % (msg, backend or mode))
        result, t_engine = H.run_engine(python, manifest, on_progress=on_progress)
        timing.update(t_engine)
        backend = result.get('backend') or backend or 'engine'
        timing['backend'] = backend

        t_out = time.monotonic()
        rgb = H.read_buffer(work, H.P.RESULT_FILE, H.P.buffer_bytes('output', W, H_, n))
        unc = H.read_buffer(work, H.P.UNCERTAINTY_FILE, H.P.buffer_bytes('uncertainty_output', W, H_, n)) \
            if want_unc else None
        if frames:
            opacity = H.read_buffer(work, H.P.RESULT_ALPHA_FILE, H.P.buffer_bytes('output_alpha', W, H_, n))
        bounds = [H.read_buffer(work, f, H.P.buffer_bytes(field, W, H_)) for f, field in
                  ((H.P.INTERVALS_LO_FILE, 'intervals_lo'), (H.P.INTERVALS_HI_FILE, 'intervals_hi'))] if want_iv else []
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if frames:
        open_frames(run_mode, frames, rgb, unc, opacity, W, H_, result, alpha, backend)
        Gimp.progress_end()
        timing['transfer_out'] = time.monotonic() - t_out
        timing['transfer'] = timing['transfer_in'] + timing['transfer_out']
        timing['total'] = time.monotonic() - t_call
        H.log_timing({k: (round(v, 4) if isinstance(v, float) else v) for k, v in timing.items()})
        return
    with_alpha = source.has_alpha()
    if with_alpha:   # keep the source's alpha in the new layers
        rgb = H.interleave(rgb, src, 3)
        if unc is not None:
            unc = H.interleave(unc, src, 1)
        bounds = [H.interleave(b, src, 3) for b in bounds]
    rgb_fmt, unc_fmt = (RGBA, GRAYA) if with_alpha else (RGB, GRAY)
    timing['transfer_out_prepare'] = time.monotonic() - t_out
    timing['read_results'] = timing['transfer_out_prepare']

    # Everything that can fail for a reason of its own happened above; now change the image,
    # in one undo group, with the layers filled before they are inserted.
    t0 = time.monotonic()
    ltype = Gimp.ImageType.RGBA_IMAGE if with_alpha else Gimp.ImageType.RGB_IMAGE
    made = []
    converted = False
    image.undo_group_start()
    try:
        if image.get_base_type() != Gimp.ImageBaseType.RGB:
            image.convert_rgb()
            converted = True
        parent = source.get_parent()
        pos = image.get_item_position(source)
        color = Gimp.Layer.new(image, 'Colorized (%s)' % backend, W, H_, ltype, 100.0, Gimp.LayerMode.NORMAL)
        made.append(color)
        write_pixels(color, rgb_fmt, rgb)
        layers = [color]
        if unc is not None:
            ulayer = Gimp.Layer.new(image, 'Uncertainty (%s)' % backend, W, H_, ltype, 100.0,
                                    Gimp.LayerMode.NORMAL)
            made.append(ulayer)
            write_pixels(ulayer, unc_fmt, unc)
            text = H.uncertainty_parasite_text(result, alpha, backend)
            ulayer.attach_parasite(Gimp.Parasite.new(H.PARASITE_NAME, 1, list(text.encode('utf-8'))))
            ulayer.set_visible(False)   # shown on demand: eye icon in the Layers dialog
            layers.insert(0, ulayer)
        for which, data in zip(('low', 'high'), bounds):   # hidden too, above the uncertainty layer
            ilayer = Gimp.Layer.new(image, '%s%s (%s)' % (H.INTERVAL_PREFIX, which, backend), W, H_, ltype, 100.0,
                                    Gimp.LayerMode.NORMAL)
            made.append(ilayer)
            write_pixels(ilayer, rgb_fmt, data)
            ilayer.set_visible(False)
            layers.insert(0, ilayer)
        for lay in reversed(layers):    # colorized directly above the source, uncertainty above it
            image.insert_layer(lay, parent, pos)
            lay.set_offsets(ox, oy)
        image.set_selected_layers([color])
    except Exception:
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
        raise
    finally:
        image.undo_group_end()
    timing['write_layers'] = time.monotonic() - t0
    timing['transfer_out'] = timing.pop('transfer_out_prepare') + timing['write_layers']
    Gimp.progress_update(1.0)
    Gimp.progress_end()
    Gimp.displays_flush()
    timing['total'] = time.monotonic() - t_call
    timing['transfer'] = timing['transfer_in'] + timing['transfer_out']
    timing['engine_start_plus_transfer'] = timing['engine_start'] + timing['transfer']
    H.log_timing({k: (round(v, 4) if isinstance(v, float) else v) for k, v in timing.items()})
    if run_mode == Gimp.RunMode.INTERACTIVE and unc is not None:
        Gimp.message(H.uncertainty_message(result, alpha, backend))


def open_frames(run_mode, frames, rgb, unc, opacity, W, H_, result, alpha, backend):
    """An animation's results as new images, one layer per frame with the source layer's name and timing, so
    that File > Export As GIF gives the colorized animation. (GIMP 3.0's GIF export writes hidden layers as
    frames too and refuses layer groups, so results added to the source image could not be exported as an
    animation; the source image stays as it was.)"""
    made = []
    for kind, data, channels, fmt in (('colorized', rgb, 3, RGBA), ('uncertainty', unc, 1, GRAYA)):
        if data is None:
            continue
        base = Gimp.ImageBaseType.RGB if channels == 3 else Gimp.ImageBaseType.GRAY
        ltype = Gimp.ImageType.RGBA_IMAGE if channels == 3 else Gimp.ImageType.GRAYA_IMAGE
        new = Gimp.Image.new(W, H_, base)
        made.append(new)
        new.undo_disable()
        step, astep = W * H_ * channels * 4, W * H_ * 4
        for k, layer in enumerate(frames):   # play order: each frame goes on top, as GIMP stacks a loaded GIF
            lay = Gimp.Layer.new(new, H.colorized_frame_name(layer.get_name()), W, H_, ltype, 100.0,
                                 Gimp.LayerMode.NORMAL)
            write_pixels(lay, fmt, H.interleave(data[k * step:(k + 1) * step], opacity[k * astep:(k + 1) * astep],
                                                channels))
            new.insert_layer(lay, None, 0)
        if kind == 'uncertainty':
            text = H.uncertainty_parasite_text(result, alpha, backend)
            new.attach_parasite(Gimp.Parasite.new(H.PARASITE_NAME, 1, list(text.encode('utf-8'))))
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
        lay = Gimp.Layer.new(image, H.SCRIBBLE_LAYER_NAME, image.get_width(), image.get_height(),
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
        raise H.PluginError('select exactly one layer (not a group or mask) holding the photo', calling=True)
    return drawables[0]


def run(procedure, run_mode, image, drawables, config, mode):
    backends = H.load_backends()
    try:
        source = pick_source(image, drawables)
        if run_mode == Gimp.RunMode.INTERACTIVE:
            if mode in ('scribble', 'partial') and source.get_name() == H.SCRIBBLE_LAYER_NAME:
                # the user just painted and left the Scribbles layer selected: the photo is below it
                below = [l for l in image.get_layers()
                         if image.get_item_position(l) > image.get_item_position(source)
                         and not is_result_layer(l)]
                if below:
                    source = below[0]
            if mode == 'scribble':
                if config.get_property('scribble-layer') is None and \
                        H.pick_scribble_layer(layer_list(image), source.get_id()) is None:
                    add_scribble_layer(image, source)
                    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())
            if not run_dialog(procedure, config, mode, backends):
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        colorize(procedure, run_mode, image, source, config, mode, backends, animation_frames(image, config, mode))
    except H.Cancelled:
        Gimp.progress_end()
        return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
    except H.PluginError as exc:
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


class Colorize(Gimp.PlugIn):
    def do_set_i18n(self, procname):
        return False

    def do_query_procedures(self):
        return [H.PROC_NAMES[m] for m in H.MODES]

    def do_create_procedure(self, name):
        Gegl.init(None)
        mode = {v: k for k, v in H.PROC_NAMES.items()}[name]
        backends = H.load_backends()
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, mode)
        procedure.set_image_types('RGB*, GRAY*')
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label(H.MENU_LABELS[mode])
        procedure.add_menu_path(H.MENU_PATH)
        procedure.set_documentation(BLURBS[mode][0], BLURBS[mode][1], name)
        procedure.set_attribution('colorcore contributors', 'colorcore contributors', '2026')
        if mode in ('scribble', 'partial'):
            procedure.add_layer_argument(
                'scribble-layer', '_Scribble layer (empty: "Scribbles")',
                'Layer with painted colour hints (none: the layer named "Scribbles", else the topmost other '
                'layer with alpha)' + (' -- used by backends that take hints' if mode == 'partial' else ''),
                True, RW)
        if mode == 'partial':
            procedure.add_channel_argument(
                'mask-channel', '_Mask channel (empty: the selection)',
                'Channel whose white parts are colorized (none: the selection)', True, RW)
        rows = H.backends_for_mode(backends, mode)
        choice = Gimp.Choice.new()
        for i, b in enumerate(rows):
            choice.add(b['name'], i, H.backend_choice_label(b), b.get('help') or '')
        default = H.default_backend(backends, mode)
        if not rows:
            choice.add('none', 0, '(engine not installed: run install.py)', '')
            default = 'none'
        procedure.add_choice_argument('backend', '_Backend', 'Colorization backend (engine plugin)',
                                      choice, default, RW)
        lo, hi = H.P.alpha_range(backends, mode)   # the levels the engine is calibrated for
        procedure.add_double_argument('alpha', 'Uncertainty _level \u03b1',
                                      'Allowed share of pixels whose true colour lies outside the uncertainty '
                                      'radius (0.1 = 90%% coverage; calibrated from %g to %g)' % (lo, hi),
                                      lo, hi, min(max(H.DEFAULT_ALPHA, lo), hi), RW)
        procedure.add_boolean_argument('uncertainty-layer', 'Add _uncertainty layer',
                                       'Add the "Uncertainty (<backend>)" layer', True, RW)
        procedure.add_boolean_argument('interval-layers', 'Add RGB _interval layers',
                                       'Add two hidden layers, "RGB interval low/high (<backend>)": at each pixel '
                                       'their R, G and B bound the true value with probability 1 - alpha '
                                       '(photos only, backends with calibrated intervals)', False, RW)
        procedure.add_int_argument('seed', 'Ran_dom seed', 'Seed for reproducible results (-1: random)',
                                   -1, 2 ** 31 - 1, -1, RW)
        frames = Gimp.Choice.new()
        for i, (value, label) in enumerate(H.FRAMES_CHOICES):
            frames.add(value, i, label, '')
        procedure.add_choice_argument('frames', '_Frames', 'Colorize every layer as a frame of an animation (its '
                                      'results open as new images, ready to export as GIF), or only the selected '
                                      'layer', frames, 'auto', RW)
        procedure.add_string_argument('engine-python', 'Engine interpreter',
                                      'Python of the colorcore engine (empty: the one recorded by install.py)',
                                      '', RW)
        for pname, bname, opt in H.option_args(backends, mode):
            nick = opt['name'].replace('_', ' ').capitalize()
            blurb = opt.get('help') or opt['name']
            kind = opt.get('type')
            try:
                if kind == 'int':
                    lo, hi = H.option_bounds(opt)
                    procedure.add_int_argument(pname, nick, blurb, lo, hi, int(opt.get('default') or 0), RW)
                elif kind == 'float':
                    lo, hi = H.option_bounds(opt)
                    procedure.add_double_argument(pname, nick, blurb, lo, hi, float(opt.get('default') or 0), RW)
                elif kind == 'bool':
                    procedure.add_boolean_argument(pname, nick, blurb, bool(opt.get('default')), RW)
                elif kind == 'choice' and opt.get('choices'):
                    c = Gimp.Choice.new()
                    for i, v in enumerate(opt['choices']):
                        c.add(str(v), i, str(v), '')
                    procedure.add_choice_argument(pname, nick, blurb, c, str(opt.get('default', opt['choices'][0])),
                                                  RW)
                else:
                    procedure.add_string_argument(pname, nick, blurb, str(opt.get('default') or ''), RW)
            except Exception as exc:  # one odd option never hides the procedure
                log('option %s skipped: %s' % (pname, exc))
        return procedure


Gimp.main(Colorize.__gtype__, sys.argv)
