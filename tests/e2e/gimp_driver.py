# Batch driver run INSIDE GIMP 3 by the python-fu-eval interpreter (see
# scripts/gimp3/run_gimp.sh).  Reads the case list from $E2E_SPEC (JSON written
# by tests/e2e), builds each image, calls the Colorize procedures and dumps what
# the host-side tests check: layer lists, sizes, offsets, parasites and raw
# "R'G'B'A float" pixels of the source (before/after) and of the new layers.
# No numpy here (GIMP's Python may lack it); all maths happens on the host.
import json
import os
import signal
import threading
import time
import traceback

import gi
gi.require_version('Gimp', '3.0')
gi.require_version('Gegl', '0.4')
from gi.repository import Gimp, Gegl, Gio  # noqa: E402

NI = Gimp.RunMode.NONINTERACTIVE
PRECISIONS = {'u8': Gimp.Precision.U8_NON_LINEAR, 'u16': Gimp.Precision.U16_NON_LINEAR,
              'float': Gimp.Precision.FLOAT_NON_LINEAR}


def _dump(drawable, path, fmt="R'G'B'A float"):
    buf = drawable.get_buffer()
    w, h = drawable.get_width(), drawable.get_height()
    data = buf.get(Gegl.Rectangle.new(0, 0, w, h), 1.0, fmt, Gegl.AbyssPolicy.NONE)
    with open(path, 'wb') as f:
        f.write(bytes(data))


_STORED = {Gimp.Precision.U8_NON_LINEAR: 'u8', Gimp.Precision.U16_NON_LINEAR: 'u16'}


def _dump_stored(image, source, path):
    """A GRAY 8- or 16-bit image's source layer as stored (its gray values, as "Y'[A] u8/u16"; after the
    plug-in's conversion to RGB, as "R'G'B'[A] ..." ): a copy, no float conversion in between."""
    bits = _STORED.get(image.get_precision())
    if bits is None:
        return
    gray = image.get_base_type() == Gimp.ImageBaseType.GRAY
    fmt = "%s%s %s" % ("Y'" if gray else "R'G'B'", 'A' if source.has_alpha() else '', bits)
    _dump(source, path, fmt)


def _dump_above(image, source, path):
    """The layer just above the source: the newest run's colorized layer."""
    layers = image.get_layers()
    ids = [lay.get_id() for lay in layers]
    _dump(layers[ids.index(source.get_id()) - 1], path)


def _dump_mask(mask, source, path):
    """A selection/channel as "Y float" in the source layer's frame (what the plug-in sends)."""
    ok, ox, oy = source.get_offsets()
    ok, mx, my = mask.get_offsets()
    data = mask.get_buffer().get(Gegl.Rectangle.new(ox - mx, oy - my, source.get_width(), source.get_height()),
                                 1.0, "Y float", Gegl.AbyssPolicy.NONE)
    with open(path, 'wb') as f:
        f.write(bytes(data))


def _layers(image):
    out = []
    for lay in image.get_layers():
        ok, ox, oy = lay.get_offsets()
        par = lay.get_parasite('colorize-uncertainty')
        out.append({'name': lay.get_name(), 'id': lay.get_id(), 'w': lay.get_width(),
                    'h': lay.get_height(), 'ox': ox, 'oy': oy, 'alpha': lay.has_alpha(),
                    'visible': lay.get_visible(),
                    'parasite': bytes(par.get_data()).decode('utf-8') if par is not None else None})
    return out


def _state(image):
    return {'layers': _layers(image), 'base_type': image.get_base_type().value_nick,
            'precision': image.get_precision().value_nick,
            'width': image.get_width(), 'height': image.get_height(),
            'channels': [c.get_name() for c in image.get_channels()],
            'selection_empty': Gimp.Selection.is_empty(image)}


_REFERENCES = []   # images opened as references ('load_reference'), closed after their case


def _prewarm_as_a_dialog_does():
    """The plug-in's own call (colorize.prewarm_engine), from its installed folder, with its default engine."""
    import sys
    folder = os.path.join(Gimp.directory(), 'plug-ins', 'colorize')
    sys.path.insert(0, folder)
    import colorize_engine
    colorize_engine.prewarm(colorize_engine.find_engine(folder=folder))


def _build(ops):
    image, source = None, None
    for op in ops:
        kind, args = op[0], op[1:]
        if kind == 'load':
            image = Gimp.file_load(NI, Gio.File.new_for_path(args[0]))
            source = image.get_layers()[0]
            source.set_name('Photo')
        elif kind == 'load_animation':   # one layer per frame, GIMP's names ("Frame 2 (120ms) (combine)") kept
            image = Gimp.file_load(NI, Gio.File.new_for_path(args[0]))
            source = image.get_layers()[0]
        elif kind == 'load_reference':   # another image, left open: From reference's default is the latest
            _REFERENCES.append(Gimp.file_load(NI, Gio.File.new_for_path(args[0])))
        elif kind == 'pause':   # a user looking at the last result before the next run (benchmarks)
            time.sleep(float(args[0]))
        elif kind == 'dialog':   # what an interactive run does as its dialog opens, then args[0] s of choosing
            _prewarm_as_a_dialog_does()
            time.sleep(float(args[0]))
        elif kind == 'gray':
            image.convert_grayscale()
        elif kind == 'rgb':
            image.convert_rgb()
        elif kind == 'precision':
            image.convert_precision(PRECISIONS[args[0]])
        elif kind == 'resize':
            image.resize(*args)
        elif kind == 'alpha_hole':
            source.add_alpha()
            image.select_rectangle(Gimp.ChannelOps.REPLACE, *args)
            source.edit_clear()
            Gimp.Selection.none(image)
        elif kind == 'scribble':
            path, name, ox, oy = args
            lay = Gimp.file_load_layer(NI, image, Gio.File.new_for_path(path))
            lay.set_name(name)
            image.insert_layer(lay, None, 0)
            lay.set_offsets(ox, oy)
        elif kind == 'select_rect':
            image.select_rectangle(Gimp.ChannelOps.REPLACE, *args)
        elif kind == 'select_ellipse':
            image.select_ellipse(Gimp.ChannelOps.REPLACE, *args)
        elif kind == 'feather':
            Gimp.Selection.feather(image, args[0])
        elif kind == 'select_none':
            Gimp.Selection.none(image)
        elif kind == 'channel_from_selection':
            chan = Gimp.Selection.save(image)
            chan.set_name(args[0])
            Gimp.Selection.none(image)
        else:
            raise ValueError('unknown op %r' % (op,))
    image.set_selected_layers([source])
    return image, source


def _cmdlines():
    out = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/%s/cmdline' % d, 'rb') as f:
                    out[int(d)] = f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
            except OSError:
                pass
    return out


def _zombie(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(')')[-1].split()[0] == 'Z'
    except OSError:
        return False


def _kill_plugin_when_engine_runs(rec):
    deadline = time.time() + 20
    while time.time() < deadline:
        procs = _cmdlines()
        engine = [p for p, c in procs.items() if 'gimp-run' in c and 'manifest.json' in c]
        plugin = [p for p, c in procs.items() if 'colorize/colorize.py' in c]
        if engine and plugin:
            rec['engine_pid'] = engine[0]
            time.sleep(0.5)
            os.kill(plugin[0], signal.SIGKILL)
            rec['killed_plugin'] = plugin[0]
            return
        time.sleep(0.1)


def _export_gif(image, path):
    """File > Export As GIF, as an animation that loops (frame times come from the layer names)."""
    proc = Gimp.get_pdb().lookup_procedure('file-gif-export')
    cfg = proc.create_config()
    cfg.set_property('image', image)
    cfg.set_property('file', Gio.File.new_for_path(path))
    cfg.set_property('as-animation', True)
    cfg.set_property('loop', True)
    return proc.run(cfg).index(0).value_nick


def _run_case(pdb, case, out):
    rec = {'name': case['name']}
    image, source = _build(case['ops'])
    rec['before'] = _state(image)
    _dump(source, os.path.join(out, case['name'] + '.src_before.f32'))
    if image.get_base_type() == Gimp.ImageBaseType.GRAY:
        _dump_stored(image, source, os.path.join(out, case['name'] + '.src_stored_before.raw'))
    rec['references_before'] = [_state(ref) for ref in _REFERENCES]
    for k, ref in enumerate(_REFERENCES):   # a reference is only read: its pixels are checked after the run
        _dump(ref.get_layers()[0], os.path.join(out, '%s.ref%d_before.f32' % (case['name'], k)))
    mask_arg = case.get('args', {}).get('mask-channel')
    if mask_arg:
        _dump_mask(image.get_channel_by_name(mask_arg[9:]), source, os.path.join(out, case['name'] + '.mask.f32'))
    elif not Gimp.Selection.is_empty(image):
        _dump_mask(image.get_selection(), source, os.path.join(out, case['name'] + '.mask.f32'))
    proc = pdb.lookup_procedure(case['proc'])
    cfg = proc.create_config()
    cfg.set_property('run-mode', getattr(Gimp.RunMode, case.get('run_mode', 'NONINTERACTIVE')))
    cfg.set_property('image', image)
    cfg.set_core_object_array('drawables', [source])
    for k, v in case.get('args', {}).items():
        if isinstance(v, str) and v.startswith('@layer:'):
            v = image.get_layer_by_name(v[7:])
        elif isinstance(v, str) and v.startswith('@channel:'):
            v = image.get_channel_by_name(v[9:])
        elif v == '@reference':   # the image opened last by 'load_reference'
            v = _REFERENCES[-1]
        cfg.set_property(k, v)
    watcher = None
    if case.get('kill_plugin'):   # what GIMP does when the user cancels: SIGKILL the plug-in
        watcher = threading.Thread(target=_kill_plugin_when_engine_runs, args=(rec,), daemon=True)
        watcher.start()
    images_before = {im.get_id() for im in Gimp.get_images()}
    t0 = time.time()
    res = proc.run(cfg)
    rec['seconds'] = round(time.time() - t0, 3)
    rec['status'] = res.index(0).value_nick
    rec['error'] = str(res.index(1)) if res.length() > 1 and res.index(0) != Gimp.PDBStatusType.SUCCESS \
        else None
    if rec['error'] is None and rec['status'] != 'success':
        rec['error'] = pdb.get_last_error()
    if watcher is not None:
        watcher.join(30)
        pid = rec.get('engine_pid')
        for _ in range(50):   # the engine must follow its plug-in (PR_SET_PDEATHSIG)
            if pid is None or not os.path.exists('/proc/%d' % pid) or _zombie(pid):
                break
            time.sleep(0.1)
        rec['engine_alive_after'] = bool(pid and os.path.exists('/proc/%d' % pid) and not _zombie(pid))
    rec['new_images'] = []
    for im in Gimp.get_images():   # an animation's results open as new images
        if im.get_id() in images_before:
            continue
        rec['new_images'].append(_state(im))
        if case.get('export_gif') and im.get_base_type() == Gimp.ImageBaseType.RGB:
            rec['exported'] = _export_gif(im, os.path.join(out, case['name'] + '.gif'))
        im.delete()
    if case.get('reruns'):   # the paint-run-look loop: more strokes, the same procedure again, same image
        rec['runs'] = [{'seconds': rec['seconds'], 'status': rec['status']}]
        _dump_above(image, source, os.path.join(out, '%s.run1.colorized.f32' % case['name']))
        for k, rerun in enumerate(case['reruns'], 2):
            for path, name in rerun['scribbles']:
                lay = Gimp.file_load_layer(NI, image, Gio.File.new_for_path(path))
                lay.set_name(name)
                image.insert_layer(lay, None, 0)
            image.set_selected_layers([source])
            cfg.set_core_object_array('drawables', [source])
            cfg.set_property('scribble-layer', image.get_layer_by_name(rerun['scribble_layer']))
            t0 = time.time()
            res = proc.run(cfg)
            rec['runs'].append({'seconds': round(time.time() - t0, 3), 'status': res.index(0).value_nick})
            _dump_above(image, source, os.path.join(out, '%s.run%d.colorized.f32' % (case['name'], k)))
    rec['after'] = _state(image)
    _dump(source, os.path.join(out, case['name'] + '.src_after.f32'))
    if os.path.exists(os.path.join(out, case['name'] + '.src_stored_before.raw')):
        _dump_stored(image, source, os.path.join(out, case['name'] + '.src_stored_after.raw'))
    for lay in image.get_layers():
        for prefix, tag in (('Colorized (', 'colorized'), ('Uncertainty (', 'uncertainty'),
                            ('RGB interval low (', 'interval_low'), ('RGB interval high (', 'interval_high')):
            if lay.get_name().startswith(prefix):
                _dump(lay, os.path.join(out, '%s.%s.f32' % (case['name'], tag)))
    image.delete()
    rec['references_after'] = [_state(ref) for ref in _REFERENCES]
    for k, ref in enumerate(_REFERENCES):
        _dump(ref.get_layers()[0], os.path.join(out, '%s.ref%d_after.f32' % (case['name'], k)))
    while _REFERENCES:
        _REFERENCES.pop().delete()
    return rec


def _main():
    spec = json.load(open(os.environ['E2E_SPEC']))
    out = spec['out']
    pdb = Gimp.get_pdb()
    report = {'gimp_version': Gimp.version(), 'procedures': {}, 'cases': {}}
    for name in spec['procedures']:
        if not pdb.procedure_exists(name):
            report['procedures'][name] = None
            continue
        p = pdb.lookup_procedure(name)
        report['procedures'][name] = {
            'menu_paths': list(p.get_menu_paths()), 'menu_label': p.get_menu_label(),
            'image_types': p.get_image_types(), 'arguments': [a.name for a in p.get_arguments()]}
    for case in spec['cases']:
        try:
            rec = _run_case(pdb, case, out)
        except Exception:
            rec = {'name': case['name'], 'status': 'driver-exception', 'error': traceback.format_exc()}
            while _REFERENCES:   # never the next case's default reference
                _REFERENCES.pop().delete()
        report['cases'][case['name']] = rec
        print('E2E-CASE', case['name'], rec.get('status'), rec.get('seconds'), flush=True)
        with open(os.path.join(out, 'report.json'), 'w') as f:
            json.dump(report, f, indent=1)
    print('E2E-DRIVER-DONE', flush=True)


_main()
