"""Fails when two headers declare a helper of the same name in a `detail` namespace (the naming
rule of docs/architecture.md, "Detail namespaces"): every header keeps its private helpers in the
one namespace `detail` of its project, and a helper's name is unique across the headers, so a
second helper doing the same thing under the same name cannot appear in another header (the
compiler would only reject it when both signatures are equal), and a helper two headers need
lives in one shared header instead of two copies.

  check_detail_names.py DIR...        (e.g. include/ examples/cli/: each DIR checked alone)

Prints every clash as NAME: FILE:LINE, FILE:LINE and exits 1 if there is one. A namespace whose
name ends in "detail" but is not `detail` is a violation too.
"""
import os
import re
import sys

OPEN = re.compile(r"^namespace ([A-Za-z_:]*detail[A-Za-z_]*) \{")
# A declaration at the namespace's top level (column 0): function, type, alias or constant.
NAME = re.compile(
    r"^(?:template\s*<.*>\s*)?(?:\[\[[a-z]+\]\]\s*)?(?:(?:inline|constexpr|static|const)\s+)*"
    r"(?:(?:struct|class|enum class|enum|using)\s+(\w+)|[\w:<>,\s\*&]+?\b(\w+)\s*(?:\(|=|\{|;))")


def declarations(path):
    """(namespace, name, line) for each top-level declaration inside a detail namespace."""
    found = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    namespace, depth = None, 0
    for number, line in enumerate(lines, 1):
        if namespace is None:
            m = OPEN.match(line)
            if m:
                namespace, depth = m.group(1), 1
                found.append((namespace, None, number))
            continue
        code = re.sub(r'"(?:\\.|[^"\\])*"|//.*', "", line)
        if depth == 1 and line and not line[0].isspace() and line[0] not in "}#/":
            bare_template = code.startswith("template") and code.rstrip().endswith(">")
            m = None if bare_template else NAME.match(code)
            if m:
                found.append((namespace, m.group(1) or m.group(2), number))
        depth += code.count("{") - code.count("}")
        if depth <= 0:
            namespace = None
    return found


def check(dirs):
    problems = []
    for top in dirs:  # each folder is its own project: names are unique within it
        seen = {}  # name -> (file, line)
        for root, _, files in sorted(os.walk(top)):
            for name in sorted(files):
                if not name.endswith((".hpp", ".h")):
                    continue
                path = os.path.join(root, name)
                for namespace, helper, line in declarations(path):
                    if namespace.split("::")[-1] != "detail":
                        if helper is None:
                            problems.append(f"{path}:{line}: namespace '{namespace}' (private "
                                            "helpers go in namespace 'detail')")
                        continue
                    if helper is None:
                        continue
                    where = seen.setdefault(helper, (path, line))
                    if where[0] != path:
                        problems.append(f"{helper}: {where[0]}:{where[1]}, {path}:{line}")
    return problems


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = check(argv[1:])
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} detail-namespace problem(s)")
        return 1
    print("detail helpers: one namespace name, every name declared by one header")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
