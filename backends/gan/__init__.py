"""pix2pix-style automatic colorization backend (`gan`).

Heavy imports (torch) live in the submodules `nets`, `train`, `infer`; importing this
package (or `plugin`) is cheap.
"""
