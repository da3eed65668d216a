"""Fails when a library header includes a header of a higher layer (docs/architecture.md,
"Layers"). Each folder of include/directspec/ has a rank; a header may include headers of its
own folder and of folders of lower rank, never of a higher or equal-rank sibling folder.

  check_layers.py INCLUDE_DIR        (the repository's include/ directory)

Prints every violation as FILE:LINE: FOLDER (rank R) includes FOLDER (rank R'), and exits 1 if
there is one; an unknown folder is a violation too (add it to LAYERS with its rank).
"""
import os
import re
import sys

# Lowest first. Folders of the same rank must not include each other.
LAYERS = {
    "core": 0,
    "data": 1,
    "graph": 2,
    "models": 3, "filters": 3, "samplers": 3, "optim": 3,
    "losses": 4,
    "train": 5,
    "io": 6,
    "eval": 7,
    "serve": 8, "distributed": 8,
    "resources": 9,
    "testing": 10,
}
INCLUDE = re.compile(r'^\s*#\s*include\s*"directspec/([a-z_]+)/[^"]+"')


def check(include_dir):
    root = os.path.join(include_dir, "directspec")
    problems = []
    for folder in sorted(os.listdir(root)):
        path = os.path.join(root, folder)
        if not os.path.isdir(path):
            continue
        if folder not in LAYERS:
            problems.append(f"{path}: folder '{folder}' has no layer in check_layers.py")
            continue
        for name in sorted(os.listdir(path)):
            header = os.path.join(path, name)
            with open(header, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m or m.group(1) == folder:
                        continue
                    target = m.group(1)
                    if target not in LAYERS or LAYERS[target] >= LAYERS[folder]:
                        problems.append(
                            f"{header}:{number}: {folder} (layer {LAYERS[folder]}) includes "
                            f"{target} (layer {LAYERS.get(target, '?')}): {line.strip()}")
    return problems


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = check(argv[1])
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers.py: {len(problems)} upward or sideways include(s)", file=sys.stderr)
        return 1
    print("check_layers.py: every include points down the layers")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
