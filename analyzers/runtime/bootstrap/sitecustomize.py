# Put first on PYTHONPATH by `decomposer trace`: every Python process the traced command
# starts imports this at startup, traces itself, then runs the sitecustomize this one
# shadows (a virtualenv's or the system's), if there is one.
#
# Any interpreter may read this file, so it uses old syntax only and never raises: a tracer
# problem must not break the user's command.
import os
import sys

_PACKAGE = "_decomposer_runtime"  # our runtime package's private name in traced processes
_PYTEST_PLUGIN = _PACKAGE + ".pytest_plugin"


def _start():
    if sys.version_info < (3, 11):  # noqa: UP036 - older interpreters read this file too
        _remove_pytest_plugin()  # it could not load here
        return
    import importlib
    import importlib.util

    if _PACKAGE in sys.modules:
        return
    # Load analyzers/runtime under a private name: the traced project may have a package
    # of its own called `analyzers`, and must keep importing that one.
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.util.spec_from_file_location(
        _PACKAGE,
        os.path.join(package_dir, "__init__.py"),
        submodule_search_locations=[package_dir],
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules[_PACKAGE] = package
    spec.loader.exec_module(package)
    recorder = importlib.import_module(_PACKAGE + ".recorder")
    if not recorder.start_from_environment():
        return
    _add_pytest_plugin()
    if os.path.exists(os.path.join(package_dir, "integrations.py")):
        try:  # web frameworks, task queues and SQL: patched when the program imports them
            importlib.import_module(_PACKAGE + ".integrations").install()
        except Exception as exc:  # noqa: BLE001 - calls are still recorded without them
            sys.stderr.write("decomposer trace: integrations not installed: %r\n" % (exc,))  # noqa: UP031


def _add_pytest_plugin():
    plugins = [p for p in os.environ.get("PYTEST_PLUGINS", "").split(",") if p.strip()]
    if _PYTEST_PLUGIN not in plugins:
        os.environ["PYTEST_PLUGINS"] = ",".join(plugins + [_PYTEST_PLUGIN])


def _remove_pytest_plugin():
    plugins = [p for p in os.environ.get("PYTEST_PLUGINS", "").split(",") if p.strip()]
    if _PYTEST_PLUGIN in plugins:
        plugins.remove(_PYTEST_PLUGIN)
        os.environ["PYTEST_PLUGINS"] = ",".join(plugins)


def _chain():
    """Import the next sitecustomize on sys.path, the one this file hides."""
    here = os.path.dirname(os.path.abspath(__file__))
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    ours = sys.modules.pop("sitecustomize", None)
    try:
        __import__("sitecustomize")
    except ImportError as exc:
        if getattr(exc, "name", None) != "sitecustomize":
            raise
        if ours is not None:
            sys.modules["sitecustomize"] = ours
    finally:
        sys.path[:] = saved


try:
    _start()
except Exception as exc:  # noqa: BLE001 - the command runs untraced rather than not at all
    sys.stderr.write("decomposer trace: the tracer did not start: %r\n" % (exc,))  # noqa: UP031
_chain()
