"""Keyword arguments as directspec-train flags: the module's settings are the CLI's.

``lr=0.05`` is ``--lr 0.05``, ``layer_weights="mean"`` is ``--layer-weights mean``,
``topk=(10, 20)`` is ``--topk 10,20``, ``normalize=False`` is ``--no-normalize``. The C++ side
parses and checks them with the CLI's parser, so values, defaults, presets and error messages
are the CLI's (docs/cli.md).
"""

import os


def flag_value(value):
    """The text of one flag value."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(flag_value(v) for v in value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return repr(value) if isinstance(value, float) else str(value)


def flags_of(settings):
    """["--name", "value", ...] for a dict of settings; None values are left out."""
    flags = []
    for key, value in settings.items():
        if value is None:
            continue
        name = "--" + key.replace("_", "-")
        if key == "normalize":
            flags.append("--normalize" if value else "--no-normalize")
        elif key == "kcore" and isinstance(value, (list, tuple)):
            flags += [name, ",".join(str(int(v)) for v in value)]
        else:
            flags += [name, flag_value(value)]
    return flags
