"""The service package holds the service only: nothing under monitor/ imports
the host tools (tools/: the simulation, the bench, the test helpers, the
installers that run apt-get). Read from the source, so an import inside a
function that no test reaches is caught too."""
import ast
import os

from tools import paths

MONITOR = os.path.join(paths.ROOT, "monitor")


def tools_imports(path):
    """(line, module) of each import of tools or tools.* in a Python file."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))
              and getattr(node.func, "attr", getattr(node.func, "id", None))
              in ("import_module", "__import__")
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            names = [node.args[0].value]
        else:
            continue
        found += [(node.lineno, n) for n in names if n == "tools" or n.startswith("tools.")]
    return found


def test_the_scan_sees_every_form_of_import(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("import tools\nimport os, tools.debian\nfrom tools import paths\n"
                 "def f():\n    from tools.sim import world\n"
                 "importlib.import_module('tools.hubs')\n"
                 "import toolset\nfrom monitor import tools_x\nfrom . import tools\n")
    assert [n for _, n in tools_imports(str(p))] == [
        "tools", "tools.debian", "tools", "tools.sim", "tools.hubs"]


def test_no_module_of_the_service_imports_tools():
    bad = []
    for root, _dirs, files in os.walk(MONITOR):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                bad += ["%s:%d imports %s" % (os.path.relpath(path, paths.ROOT), line, mod)
                        for line, mod in tools_imports(path)]
    assert bad == []
