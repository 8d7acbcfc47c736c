"""What a skops file may never be trusted to call or build: functions and types that reach the
system (run commands, import or load code, touch files, sockets or the interpreter).

skops loads an object by looking its type (or function) up by name and calling it; trusting a
name in `model.trusted_types` lets the file call that name with arguments of its choosing while
loading. A crafted file that lists `posix.system` ran a command that way. These names are refused
whatever `model.trusted_types` says: by the contract on the names as written (here, with no
import), and by the container on the names and on the module each one resolves to (a re-export
such as `sklearn.datasets._base.makedirs` is `os.makedirs`).

Matching is by dotted prefix: `os` refuses `os.system` and `os.path.join`, not `osgeo.X`.
"""

from __future__ import annotations

# Modules (and a few functions of otherwise harmless modules) that reach the system. A deny-list
# cannot be complete, which is why a SHA-256 pin is also required whenever any type is trusted
# (config.models): the types were reviewed for one file, and only that file loads.
DENIED_PREFIXES: tuple[str, ...] = (
    # the interpreter, code loading and execution
    "builtins",
    "__builtin__",
    "sys",
    "importlib",
    "pkgutil",
    "zipimport",
    "runpy",
    "code",
    "codeop",
    "types",
    "marshal",
    "inspect",
    "ast",
    "gc",
    "pydoc",
    "ctypes",
    "_ctypes",
    "cffi",
    "operator",  # attrgetter/methodcaller reach any attribute of any object
    "_operator",
    "functools",  # reduce/cache/... call what they are given (partial: ALLOWED_NAMES)
    # processes and the operating system
    "os",
    "posix",
    "nt",
    "_posixsubprocess",
    "subprocess",
    "pty",
    "signal",
    "multiprocessing",
    "concurrent",
    "threading",
    "_thread",
    "asyncio",
    "platform",
    "webbrowser",
    # files
    "io",
    "_io",
    "codecs",
    "_codecs",
    "pathlib",
    "shutil",
    "tempfile",
    "glob",
    "fileinput",
    "shelve",
    "dbm",
    "sqlite3",
    # deserialisers that run code (a pickle inside the skops file)
    "pickle",
    "_pickle",
    "copyreg",
    "dill",
    "cloudpickle",
    "joblib",
    "skops",
    "numpy.load",
    "numpy.lib.npyio",
    "numpy.lib.format",
    "numpy.fromfile",
    "numpy.memmap",
    "numpy.save",
    "numpy.savez",
    "numpy.savez_compressed",
    "numpy.savetxt",
    "numpy.loadtxt",
    "numpy.genfromtxt",
    "numpy.ctypeslib",
    "numpy.f2py",
    "numpy.testing",
    "pandas.io",
    "pandas.read_pickle",
    "pandas.eval",
    "pandas.core.computation",
    "scipy.io",
    "sklearn.datasets",  # fetch_* downloads; its modules re-export os functions
    "sklearn.externals",
    "sklearn.utils._testing",
    "sklearn.utils._show_versions",
    # the network
    "socket",
    "_socket",
    "ssl",
    "http",
    "urllib",
    "ftplib",
    "smtplib",
    "xmlrpc",
)


# Names under a denied prefix that scikit-learn's own models need and that reach nothing by
# themselves. `functools.partial`: HistGradientBoosting* with categorical features holds one;
# skops rebuilds it from its function, arguments and keywords, each a node checked on its own
# (the function must be trusted too), and building a partial calls nothing.
ALLOWED_NAMES: frozenset[str] = frozenset({"functools.partial"})


def denied_prefix(name: str) -> str | None:
    """The entry of DENIED_PREFIXES that `name` (a dotted `module.Name`) falls under, or None."""
    if name in ALLOWED_NAMES:
        return None
    for prefix in DENIED_PREFIXES:
        if name == prefix or name.startswith(prefix + "."):
            return prefix
    return None
