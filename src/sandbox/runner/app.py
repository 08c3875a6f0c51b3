"""plumb's sandbox runner: the Python half of `src/sandbox`.

Built into a CPython WASI component by componentize-py (see `src/sandbox/runtime.rs`). The host calls
`run(request)` once per instance with a JSON request; this module executes the user's file top-level
statement by statement, then every case, and streams one JSON event per step through `host.report` so
that a trap (deadline, stack, exit) loses nothing already finished. It decides nothing: it records what
happened (printed text, value, exception, doctest's own text verdict) and the host's judge decides.

Every module a test may need is imported here, at build time, so that it is part of the snapshot.
"""

# Modules tests and examples may use: imported now so that componentize-py bundles and pre-initialises them.
import ast
import bisect  # noqa: F401
import builtins
import collections  # noqa: F401
import copy  # noqa: F401
import dataclasses  # noqa: F401
import datetime  # noqa: F401
import decimal  # noqa: F401
import doctest
import enum  # noqa: F401
import fractions  # noqa: F401
import functools  # noqa: F401
import gc
import hashlib  # noqa: F401
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import heapq  # noqa: F401
import io
import itertools  # noqa: F401
import json
import marshal
import linecache
import math  # noqa: F401
import operator  # noqa: F401
import random  # noqa: F401
import re  # noqa: F401
import statistics  # noqa: F401
import string  # noqa: F401
import sys
import textwrap  # noqa: F401
import time
import traceback
import typing  # noqa: F401
import unittest  # noqa: F401
import cmath  # noqa: F401
import array  # noqa: F401
import base64  # noqa: F401
import binascii  # noqa: F401
import struct  # noqa: F401
import contextlib  # noqa: F401
import abc  # noqa: F401
import numbers  # noqa: F401
import pprint  # noqa: F401
import difflib  # noqa: F401
import uuid  # noqa: F401
import zlib  # noqa: F401
import calendar  # noqa: F401
import csv  # noqa: F401
import html  # noqa: F401
import unicodedata  # noqa: F401
import weakref  # noqa: F401
import types  # noqa: F401
import inspect  # noqa: F401
import collections.abc  # noqa: F401
import urllib.parse  # noqa: F401

import wit_world
from wit_world.imports import host

# Keep private references: user code shares this interpreter and may replace module attributes.
_dumps = json.dumps
_loads = json.loads
_report = host.report
_begin = host.begin
_find_module = host.find_module
_import_module = importlib.import_module
_spec_from_loader = importlib.util.spec_from_loader
_chdir = os.chdir
_perf = time.perf_counter
_TracebackException = traceback.TracebackException
_StackSummary = traceback.StackSummary
_BaseException = BaseException
_repr = builtins.repr
_real_stdout = sys.stdout
_real_stderr = sys.stderr
_real_displayhook = sys.displayhook
_marshal_loads = marshal.loads
_marshal_dumps = marshal.dumps
_a2b = binascii.a2b_base64
_b2a = binascii.b2a_base64

# pytest's own doctest flags (its `LiteralsOutputChecker`): projects set them for their whole run.
_ALLOW_UNICODE = doctest.register_optionflag("ALLOW_UNICODE")
_ALLOW_BYTES = doctest.register_optionflag("ALLOW_BYTES")
_NUMBER = doctest.register_optionflag("NUMBER")
_DOCTEST_FLAGS = dict(doctest.OPTIONFLAGS_BY_NAME)


class _LiteralsChecker(doctest.OutputChecker):
    """doctest's checker with pytest's ALLOW_UNICODE, ALLOW_BYTES and NUMBER, as pytest implements
    them (`_pytest/doctest.py`, MIT licence): what `pytest --doctest-modules` accepts, plumb accepts."""

    _unicode_literal_re = re.compile(r"(\W|^)[uU]([rR]?[\'\"])", re.UNICODE)
    _bytes_literal_re = re.compile(r"(\W|^)[bB]([rR]?[\'\"])", re.UNICODE)
    _number_re = re.compile(
        r"""
        (?P<number>
          (?P<mantissa>
            (?P<integer1> [+-]?\d*)\.(?P<fraction>\d+)
            |
            (?P<integer2> [+-]?\d+)\.
          )
          (?:
            [Ee]
            (?P<exponent1> [+-]?\d+)
          )?
          |
          (?P<integer3> [+-]?\d+)
          (?:
            [Ee]
            (?P<exponent2> [+-]?\d+)
          )
        )
        """,
        re.VERBOSE,
    )

    def check_output(self, want, got, optionflags):
        if doctest.OutputChecker.check_output(self, want, got, optionflags):
            return True
        allow_unicode = optionflags & _ALLOW_UNICODE
        allow_bytes = optionflags & _ALLOW_BYTES
        allow_number = optionflags & _NUMBER
        if not allow_unicode and not allow_bytes and not allow_number:
            return False
        if allow_unicode:
            want = re.sub(self._unicode_literal_re, r"\1\2", want)
            got = re.sub(self._unicode_literal_re, r"\1\2", got)
        if allow_bytes:
            want = re.sub(self._bytes_literal_re, r"\1\2", want)
            got = re.sub(self._bytes_literal_re, r"\1\2", got)
        if allow_number:
            got = self._remove_unwanted_precision(want, got)
        return doctest.OutputChecker.check_output(self, want, got, optionflags)

    def _remove_unwanted_precision(self, want, got):
        wants = list(self._number_re.finditer(want))
        gots = list(self._number_re.finditer(got))
        if len(wants) != len(gots):
            return got
        offset = 0
        for w, g in zip(wants, gots):
            fraction = w.group("fraction")
            exponent = w.group("exponent1")
            if exponent is None:
                exponent = w.group("exponent2")
            precision = 0 if fraction is None else len(fraction)
            if exponent is not None:
                precision -= int(exponent)
            expected = float(g.group())
            # pytest.approx(expected, abs=10**-precision): relative 1e-6 or the absolute tolerance.
            if abs(float(w.group()) - expected) <= max(1e-6 * abs(expected), 10**-precision):
                got = got[: g.start() + offset] + w.group() + got[g.end() + offset :]
                offset += w.end() - w.start() - (g.end() - g.start())
        return got


_CHECKER = _LiteralsChecker()
_REPR_CAP = 4096


class OutputLimit(BaseException):
    """Raised into the guest when a case prints more than the host allows."""


class _Capture(io.TextIOBase):
    """stdout/stderr for one case: keeps a prefix of at most `cap` characters, then stops the case."""

    def __init__(self, cap):
        self.parts = []
        self.size = 0
        self.cap = cap
        self.truncated = False

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not " + type(text).__name__)
        room = self.cap - self.size
        if len(text) > room:
            self.parts.append(text[: max(room, 0)])
            self.size = self.cap
            self.truncated = True
            raise OutputLimit("output exceeded %d characters" % self.cap)
        self.parts.append(text)
        self.size += len(text)
        return len(text)

    def text(self):
        return "".join(self.parts)


def _short_repr(value):
    try:
        text = _repr(value)
    except _BaseException as error:  # a broken __repr__ is data too
        text = "<repr failed: %s>" % type(error).__name__
    if len(text) > _REPR_CAP:
        text = text[:_REPR_CAP] + "..."
    return text


def _value_kind(value):
    if value is None:
        return "none"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "other"


class _SourceLoader(importlib.abc.InspectLoader):
    """A module of the project, as the host sent it (the editor's text where a buffer is open)."""

    def __init__(self, filename, source, package, key=None, code=None):
        self.filename = filename
        self.source = source
        self.package = package
        # The host's cache: the code an earlier run compiled from this very text, if any.
        self.key = key
        self.code = code

    def get_source(self, fullname):
        return self.source

    def is_package(self, fullname):
        return self.package

    def get_code(self, fullname):
        if self.code:
            try:
                return _marshal_loads(_a2b(self.code))
            except _BaseException:
                pass
        code = compile(self.source, self.filename, "exec", dont_inherit=True)
        _remember_module_code(self.key, code)
        return code

    def exec_module(self, module):
        exec(self.get_code(module.__name__), module.__dict__)


def _remember_module_code(key, code, suffix=""):
    """Sends a served module's compiled code to the host's cache (the key came with the module)."""
    runner = _FINDER.runner
    if key and runner is not None:
        try:
            runner.emit({"event": "module_code", "key": key + suffix,
                         "code": _b2a(_marshal_dumps(code), newline=False).decode("ascii")})
        except _BaseException:
            pass


class _MainLoader(importlib.abc.Loader):
    """The file being checked: its top-level statements run one by one (`Runner.setup`), so that a
    failing statement is reported and the rest still run, whether the file is imported by its
    parent package or by the runner itself."""

    def __init__(self, runner):
        self.runner = runner

    def create_module(self, spec):
        return None

    def get_source(self, fullname):
        return self.runner.source

    def exec_module(self, module):
        self.runner.exec_main(module)


class _ProjectFinder(importlib.abc.MetaPathFinder):
    """What `sys.modules` (the whole standard library, imported at build time) does not have, the
    host may: the project's modules and its environment's pure-Python packages."""

    runner = None
    find = staticmethod(_find_module)

    def find_spec(self, fullname, path=None, target=None):
        runner = self.runner
        if runner is None:
            return None
        if fullname == runner.module_name and runner.pending is not None:
            spec = _spec_from_loader(fullname, _MainLoader(runner), origin=runner.origin, is_package=runner.is_package)
            if runner.is_package:
                spec.submodule_search_locations = [runner.origin.rpartition("/")[0]]
            return spec
        answer = _loads(self.find(fullname))
        kind = answer.get("kind")
        if kind == "extension":
            raise ModuleNotFoundError(
                "%s is a compiled extension, which the sandbox cannot load (%s)"
                % (fullname, answer.get("filename", "").rpartition("/")[2]),
                name=fullname,
            )
        if kind != "source":
            return None
        filename = answer["filename"]
        origin = answer.get("origin") or filename
        source = answer["source"]
        package = bool(answer.get("package"))
        if package and not origin.endswith(".py"):
            # A namespace package: a directory without __init__.py.
            spec = importlib.machinery.ModuleSpec(fullname, _SourceLoader(filename, "", True), is_package=True)
            spec.submodule_search_locations = [origin]
            return spec
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        runner.project_files.add(filename)
        loader = _SourceLoader(filename, source, package, answer.get("key"), answer.get("code"))
        spec = _spec_from_loader(fullname, loader, origin=origin, is_package=package)
        spec.has_location = True
        if package:
            spec.submodule_search_locations = [origin.rpartition("/")[0]]
        return spec


_FINDER = _ProjectFinder()
# First: a package's submodules are the host's to give (the editor's text, recorded for the cache),
# not found by the path finder in the project directory that runs may read.
sys.meta_path.insert(0, _FINDER)


class Runner:
    def __init__(self, request):
        self.filename = request["filename"]
        self.origin = request.get("origin") or self.filename
        self.source = request.get("source", "")
        self.output_cap = int(request.get("output_cap", 65536))
        self.module_name = request.get("module_name", "__plumb__")
        lines = self.source.splitlines(True)
        linecache.cache[self.filename] = (len(self.source), None, lines, self.filename)
        # The editor's text, also under the file's real path (doctest's finder looks there).
        linecache.cache[self.origin] = (len(self.source), None, lines, self.origin)
        self.globals = {"__name__": self.module_name, "__builtins__": builtins, "__file__": self.origin}
        self.is_package = self.origin.endswith("/__init__.py")
        self.new_code = None
        self.project_files = set()
        # (chunks, chunk_index) until the file has been executed.
        self.pending = None
        # What the project's conftest files put in pytest's doctest_namespace (after `load`).
        self.namespace = {}

    # -- reporting -------------------------------------------------------------------------------
    sink = staticmethod(_report)
    begin = staticmethod(_begin)

    def emit(self, event):
        # Lone surrogates (print("\udcff")) cannot cross the component boundary as a string (the
        # lowering traps) nor be a JSON escape the host accepts: they arrive as U+FFFD.
        text = _dumps(event, ensure_ascii=False)
        self.sink(text.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))

    def exception_info(self, error, case_lines=None):
        """The LeTI-normalised exception: frames outside the user's file dropped, lines already true."""
        try:
            te = _TracebackException(type(error), error, error.__traceback__, capture_locals=False)
            frames = [f for f in te.stack if f.filename == self.filename or f.filename in self.project_files]
            if case_lines is not None:
                # An example's own frame: its columns are those of the example's text, not of the
                # docstring line (which has the indentation and `>>> ` before it), so drop them.
                for f in frames:
                    if f.name == "<module>" and f.lineno in case_lines:
                        f.colno = None
                        f.end_colno = None
            te.stack = _StackSummary.from_list(frames)
            if isinstance(error, SyntaxError):
                te.offset = None
                te.end_offset = None
            lines = list(te.format())
            if not frames:
                lines = [line for line in lines if not line.startswith("Traceback (most recent call last)")]
            text = "".join(lines)
        except _BaseException as failure:
            text = "%s: %s\n(traceback unavailable: %s)\n" % (type(error).__name__, error, type(failure).__name__)
        try:
            message = str(error)
        except _BaseException:
            message = "<str failed>"
        info = {
            "type": type(error).__name__,
            "module": type(error).__module__,
            "message": message[:_REPR_CAP],
            "traceback": text[: self.output_cap],
            "line": None,
        }
        tb = error.__traceback__
        last = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.filename:
                last = tb.tb_lineno
            tb = tb.tb_next
        if isinstance(error, SyntaxError) and error.filename == self.filename and error.lineno:
            last = error.lineno
        if last is not None:
            info["line"] = last - 1
        if isinstance(error, NameError) and getattr(error, "name", None):
            name = error.name
            if name not in self.globals and not hasattr(builtins, name):
                info["missing_name"] = name
        if isinstance(error, SystemExit):
            info["exit_code"] = _repr(error.code)
        feature = _unsupported_feature(error)
        if feature is not None:
            info["unsupported"] = feature
        return info

    # -- execution -------------------------------------------------------------------------------
    def padded(self, line, text):
        return "\n" * line + text

    def capture(self):
        """A fresh stdout for one step. stderr (warnings, logging) is captured apart and not
        compared: doctest compares what an example prints to stdout only."""
        cap = _Capture(self.output_cap)
        sys.stdout = cap
        sys.stderr = _Capture(self.output_cap)
        return cap

    def restore(self):
        sys.stdout = _real_stdout
        sys.stderr = _real_stderr
        sys.displayhook = _real_displayhook

    def load(self, request):
        """Executes the file as the module it is: its parent packages are imported first (they
        may import the file themselves, which then runs through `_MainLoader`), then the file."""
        self.pending = (request.get("chunks", []), request.get("chunk_index", []))
        name = self.module_name
        parent = name.rpartition(".")[0]
        if parent and not request.get("skip_packages"):
            self.begin(-2, 0)
            cap = self.capture()
            try:
                _import_module(parent)
            except _BaseException:
                # The examples say what is missing (an unresolved name or module).
                pass
            finally:
                self.restore()
        if request.get("conftests") and not request.get("skip_packages"):
            self.begin(-2, 0)
            self.namespace = self.doctest_namespace(request["conftests"])
        if self.pending is None:
            return
        if name in sys.modules or not name or name == "__plumb__":
            # A file named like a standard module (or with no module name) is not registered.
            self.globals["__package__"] = (name if self.is_package else parent) or None
            self.exec_main(None)
            return
        try:
            _import_module(name)
        except _BaseException:
            pass
        if self.pending is not None:
            self.exec_main(None)

    def doctest_namespace(self, conftests):
        """pytest's doctest_namespace as the project's conftest files fill it: each autouse fixture
        that asks for nothing but `doctest_namespace` is called (a generator fixture up to its
        yield). A conftest or fixture that fails adds nothing: the examples then say which name is
        missing, as they would without it."""
        namespace = {}
        for conftest in conftests:
            path = conftest["path"]
            source = conftest["source"]
            linecache.cache[path] = (len(source), None, source.splitlines(True), path)
            cap = self.capture()
            try:
                module = types.ModuleType("conftest")
                module.__file__ = path
                module.__builtins__ = builtins
                exec(compile(source, path, "exec"), module.__dict__)
                for value in list(module.__dict__.values()):
                    fixture = _autouse_fixture(value)
                    if fixture is None:
                        continue
                    try:
                        if list(inspect.signature(fixture).parameters) != ["doctest_namespace"]:
                            continue
                        result = fixture(namespace)
                        if inspect.isgenerator(result):
                            next(result, None)
                    except _BaseException:
                        pass
            except _BaseException:
                pass
            finally:
                self.restore()
        return namespace

    def exec_main(self, module):
        chunks, chunk_index = self.pending
        self.pending = None
        if module is not None:
            module.__file__ = self.origin
            self.globals = module.__dict__
            self.globals.setdefault("__builtins__", builtins)
        self.setup(chunks, chunk_index)

    def setup(self, chunks, chunk_index):
        for position, chunk in enumerate(chunks):
            index = chunk_index[position] if position < len(chunk_index) else position
            self.begin(-1, index)
            cap = self.capture()
            error = None
            try:
                self.new_code = None
                code = self.code_for({"line": chunk["line"], "source": chunk["text"], "code": chunk.get("code")}, "exec")
                if self.new_code is not None:
                    self.emit({"event": "chunk_code", "index": index, "code": self.new_code})
                exec(code, self.globals)
            except _BaseException as caught:
                error = caught
            finally:
                self.restore()
            if error is not None:
                self.emit({"event": "setup_error", "index": index, "exception": self.exception_info(error),
                           "output_truncated": cap.truncated})

    def run_case(self, case, globs):
        kind = case["kind"]
        cap = self.capture()
        shown = []

        def displayhook(value):
            if value is None:
                return
            shown.append(value)
            builtins._ = value
            cap.write(_repr(value) + "\n")

        outcome = {"status": "completed", "exception": None}
        start = _perf()
        try:
            if kind == "example":
                sys.displayhook = displayhook
                exec(self.code_for(case, "single"), globs)
            elif kind == "assert":
                self.run_assert(case, globs, outcome)
            else:
                raise ValueError("unknown case kind %r" % kind)
        except _BaseException as error:
            outcome["status"] = "raised"
            first = case["line"] + 1
            outcome["exception"] = self.exception_info(error, range(first, first + case["source"].count("\n") + 1))
            outcome["exception_only"] = "".join(traceback.format_exception_only(type(error), error))
        finally:
            self.restore()
        outcome["duration_us"] = int((_perf() - start) * 1e6)
        outcome["stdout"] = cap.text()
        outcome["output_truncated"] = cap.truncated
        if len(shown) == 1:
            outcome["value"] = {"repr": _short_repr(shown[0]), "kind": _value_kind(shown[0])}
        else:
            outcome["value"] = None
        if kind == "example":
            self.judge_text(case, outcome, shown)
        return outcome

    def code_for(self, case, mode):
        """The case's code object: from the host's cache of earlier compilations when it sent one
        (compile() costs far more than running a short test in this interpreter), else compiled
        now and offered back to the host in the case's event."""
        cached = case.get("code")
        if cached:
            try:
                return _marshal_loads(_a2b(cached))
            except _BaseException:
                pass
        code = compile(self.padded(case["line"], case["source"]), self.filename, mode)
        try:
            self.new_code = _b2a(_marshal_dumps(code), newline=False).decode("ascii")
        except _BaseException:
            self.new_code = None
        return code

    def run_assert(self, case, globs, outcome):
        """Assert statements, compiled once. When `assert left == right` fails, both sides are
        evaluated again, separately, so that the feedback can show the actual and expected values."""
        try:
            exec(self.code_for(case, "exec"), globs)
        except AssertionError:
            self.explain_assert(self.padded(case["line"], case["source"]), globs, outcome)
            raise

    def explain_assert(self, text, globs, outcome):
        try:
            tree = ast.parse(text, self.filename, "exec")
            if not (
                len(tree.body) == 1
                and isinstance(tree.body[0], ast.Assert)
                and isinstance(tree.body[0].test, ast.Compare)
                and len(tree.body[0].test.ops) == 1
                and isinstance(tree.body[0].test.ops[0], ast.Eq)
            ):
                return
            test = tree.body[0].test
            left = eval(compile(ast.Expression(test.left), self.filename, "eval"), globs)
            right = eval(compile(ast.Expression(test.comparators[0]), self.filename, "eval"), globs)
            outcome["actual"] = _short_repr(left)
            outcome["expected"] = _short_repr(right)
        except _BaseException:
            pass

    def judge_text(self, case, outcome, shown):
        """Record doctest's own verdict and, where the expectation is a literal, the value comparison."""
        want = case.get("want", "")
        flags = 0
        for name in case.get("options", []):
            flags |= _DOCTEST_FLAGS.get(name, 0)
        if outcome["status"] == "completed":
            outcome["text_match"] = bool(_CHECKER.check_output(want, outcome["stdout"], flags))
            outcome["value_equal"] = None
            if want.strip() and len(shown) == 1 and outcome["stdout"] == _repr(shown[0]) + "\n":
                try:
                    expected = ast.literal_eval(want.strip())
                except _BaseException:
                    expected = _NOT_LITERAL
                if expected is not _NOT_LITERAL:
                    try:
                        outcome["value_equal"] = bool(shown[0] == expected)
                    except _BaseException:
                        outcome["value_equal"] = False
                    outcome["expected"] = _short_repr(expected)
        else:
            # doctest: an expected exception matches on the exception-only lines.
            exc_msg = outcome.get("exception_only", "")
            match = False
            marker = "Traceback (most recent call last):"
            if marker in want:
                m = doctest.DocTestParser._EXCEPTION_RE.match(want)
                if m is not None:
                    want_msg = m.group("msg")
                    match = bool(_CHECKER.check_output(want_msg, exc_msg, flags))
                    if not match and flags & doctest.IGNORE_EXCEPTION_DETAIL:
                        match = bool(
                            _CHECKER.check_output(
                                doctest._strip_exception_details(want_msg),
                                doctest._strip_exception_details(exc_msg),
                                flags,
                            )
                        )
            outcome["text_match"] = match
            outcome["value_equal"] = None

    def discover(self, known):
        """Docstrings with examples that the file's text does not show — assigned to `__doc__`,
        or on functions made at run time — found as `pytest --doctest-modules` finds them
        (doctest's `DocTestFinder` on the running module). Known qualified names are left out."""
        self.begin(-3, 0)
        module = sys.modules.get(self.module_name)
        items = []
        if module is not None and getattr(module, "__dict__", None) is self.globals:
            cap = self.capture()
            try:
                tests = doctest.DocTestFinder(exclude_empty=True).find(module, self.module_name)
            except _BaseException:
                tests = []
            finally:
                self.restore()
            known = set(known)
            names = {flag: name for name, flag in _DOCTEST_FLAGS.items()}
            prefix = self.module_name + "."
            for test in tests:
                if test.name == self.module_name:
                    name = "<module>"
                elif test.name.startswith(prefix):
                    name = test.name[len(prefix):]
                else:
                    continue
                if name in known or not test.examples:
                    continue
                examples = []
                for ex in test.examples:
                    options = [names[f] for f, on in ex.options.items() if on and f in names and names[f] != "SKIP"]
                    examples.append({"source": ex.source, "want": ex.want, "options": options,
                                     "skip": bool(ex.options.get(doctest.SKIP))})
                items.append({"name": name, "line": test.lineno, "examples": examples})
                if len(items) >= 1000:
                    break
        self.emit({"event": "found", "items": items})

    def run_tests(self, spec):
        """The user's own tests in one file, run by the real pytest (bundled at build time) with
        the project's configuration; one event per test with pytest's own report and the project
        functions it called (`sys.monitoring`), so each test is evidence on what it exercised."""
        import pytest

        sys.argv = ["pytest"]
        sys.dont_write_bytecode = True
        reporter = _TestReporter(self, spec.get("done", 0))
        args = [
            # Every plugin a native run has (projects configure their ini options and turn their
            # warnings into errors); what they would write goes to the scratch directory.
            # faulthandler cannot run under WASI (no fault signals): off, its setting kept known.
            "-q", "-p", "no:pastebin", "-p", "no:faulthandler", "-o", "cache_dir=/tmp/pytest-cache",
            "--capture=sys", "--color=no", "--code-highlight=no", "-o", "addopts=",
            "--rootdir", spec["rootdir"],
            # tmp_path under the run's scratch directory (pytest's own choice checks file owners,
            # which WASI does not have).
            "--basetemp", "/tmp/pytest",
            # A failure's report as pytest's `--tb=short` writes it (each frame's line and the
            # assertion's explanation): what fits a diagnostic, and half the cost of the long form.
            "--tb=short",
        ]
        _host_rewrites()
        for nodeid in spec.get("deselect", []):
            args.append("--deselect=" + nodeid)
        # Some of the file's tests (node ids, as pytest names them from the rootdir), or all.
        args.extend(spec.get("select") or [spec["file"]])
        cap = self.capture()
        err = sys.stderr
        code = None
        # pytest names files relative to where it was invoked: the project's root, as a user runs
        # it; the tests themselves run in the scratch directory (`pytest_sessionstart`).
        reporter.home = os.getcwd()
        _chdir(spec["rootdir"])
        try:
            code = int(pytest.main(args, plugins=[reporter]))
        except _BaseException as error:
            reporter.internal = "%s: %s" % (type(error).__name__, error)
        finally:
            reporter.stop()
            _chdir(reporter.home)
            self.restore()
        self.emit({"event": "tests_done", "exit": code, "output": (cap.text() + err.text())[-4000:],
                   "internal": reporter.internal})

    def run_groups(self, groups):
        for g, group in enumerate(groups):
            globs = dict(self.globals)
            globs.update(self.namespace)
            for c, case in enumerate(group["cases"]):
                mode = case.get("mode", "run")
                if mode == "skip":
                    continue
                self.begin(g, c)
                self.new_code = None
                outcome = self.run_case(case, globs)
                if mode == "run":
                    event = {"event": "case", "group": g, "case": c, "outcome": outcome}
                    if self.new_code is not None:
                        event["code"] = self.new_code
                    self.emit(event)


def _autouse_fixture(value):
    """The function behind a pytest fixture marked autouse (pytest 8.4's fixture objects), or None."""
    try:
        marker = getattr(value, "_fixture_function_marker", None)
        if marker is None or not getattr(marker, "autouse", False):
            return None
        unwrap = getattr(value, "_get_wrapped_function", None)
        return unwrap() if unwrap is not None else getattr(value, "_fixture_function", None)
    except _BaseException:
        return None


_NOT_LITERAL = object()

_MONITOR = 3  # a sys.monitoring tool id of plumb's own


class _TestReporter:
    """A pytest plugin: per test, its outcome, pytest's report and the project functions it ran."""

    def __init__(self, runner, first):
        self.runner = runner
        self.index = first
        self.calls = set()
        self.reports = []
        self.unsupported = None
        self.internal = None
        self.monitoring = False
        self.home = "/"

    def start(self):
        mon = sys.monitoring
        files = self.runner.project_files

        def on_start(code, offset):
            # Once per code object per test: the first call is all attribution needs, and a
            # function the test calls in a loop must not pay for the callback every time
            # (`pytest_runtest_logstart` re-enables the events for the next test).
            if code.co_filename in files:
                self.calls.add((code.co_filename, code.co_qualname))
            return mon.DISABLE

        try:
            mon.use_tool_id(_MONITOR, "plumb")
            mon.register_callback(_MONITOR, mon.events.PY_START, on_start)
            mon.set_events(_MONITOR, mon.events.PY_START)
            self.monitoring = True
        except _BaseException:
            self.monitoring = False

    def stop(self):
        if self.monitoring:
            try:
                sys.monitoring.set_events(_MONITOR, 0)
                sys.monitoring.register_callback(_MONITOR, sys.monitoring.events.PY_START, None)
                sys.monitoring.free_tool_id(_MONITOR)
            except _BaseException:
                pass
            self.monitoring = False

    def pytest_addoption(self, parser):
        for name in ("faulthandler_timeout", "faulthandler_exit_on_timeout"):
            try:
                parser.addini(name, "(the sandbox has no faulthandler)", default=None)
            except _BaseException:
                pass

    def pytest_sessionstart(self, session):
        _chdir(self.home)

    def pytest_collection_finish(self, session):
        self.runner.emit({"event": "collected", "nodeids": [item.nodeid for item in session.items]})
        self.start()

    def pytest_runtest_logstart(self, nodeid, location):
        self.runner.begin(-4, self.index)
        self.calls = set()
        if self.monitoring:
            try:
                sys.monitoring.restart_events()
            except _BaseException:
                pass
        self.reports = []
        self.unsupported = None
        self.started = _perf()

    def pytest_runtest_logreport(self, report):
        self.reports.append(report)

    def pytest_runtest_makereport(self, item, call):
        # Not a result of its own (returns None): notes what the sandbox lacked, if that is why.
        if call.excinfo is not None and self.unsupported is None:
            self.unsupported = _unsupported_feature(call.excinfo.value)

    def pytest_runtest_logfinish(self, nodeid, location):
        outcome = "passed"
        text = []
        for report in self.reports:
            if report.failed:
                outcome = "failed" if report.when == "call" else "error"
                text.append(report.longreprtext)
            elif report.skipped and outcome == "passed":
                outcome = "skipped"
        if outcome in ("failed", "error") and self.unsupported is not None:
            outcome = "unsupported"
            text.insert(0, "needs %s, which the sandbox does not have" % self.unsupported)
        self.runner.emit({
            "event": "test", "index": self.index, "nodeid": nodeid, "line": location[1], "name": location[2],
            "outcome": outcome, "report": "\n".join(text)[-16000:],
            "duration_us": int((_perf() - self.started) * 1e6),
            "exercised": sorted([f, q] for f, q in self.calls),
        })
        self.index += 1


class WitWorld(wit_world.WitWorld):
    def run(self, request: str) -> str:
        req = _loads(request)
        runner = Runner(req)
        _FINDER.runner = runner
        try:
            _chdir(req.get("scratch") or "/")
        except _BaseException:
            pass
        if req.get("pytest") is not None:
            runner.run_tests(req["pytest"])
            runner.emit({"event": "done"})
            return "ok"
        runner.load(req)
        runner.run_groups(req.get("groups", []))
        if req.get("discover") is not None:
            runner.discover(req["discover"])
        runner.emit({"event": "done"})
        return "ok"


_WARM_SOURCE = '''import math
def area(r):
    """
    >>> area(1)
    3.14
    """
    return round(math.pi * r * r, 2)
def bad(x):
    return 1 / x
'''

_WARM_CASES = [
    {"kind": "example", "source": "area(1)\n", "want": "3.14\n", "options": [], "line": 3},
    {"kind": "example", "source": "area(2) == 12.57\n", "want": "", "options": [], "line": 3},
    {"kind": "example", "source": "print(area(1))\n", "want": "3.14\n", "options": ["NORMALIZE_WHITESPACE"], "line": 3},
    {"kind": "example", "source": "bad(0)\n",
     "want": "Traceback (most recent call last):\n  ...\nZeroDivisionError: division by zero\n", "options": [], "line": 3},
    {"kind": "example", "source": "bad(0)\n", "want": "1\n", "options": [], "line": 3},
    {"kind": "example", "source": "missing(1)\n", "want": "1\n", "options": [], "line": 3},
    {"kind": "assert", "source": "assert area(1) == 3.14\n", "line": 3},
    {"kind": "assert", "source": "assert area(1) == 3\n", "line": 3},
    {"kind": "assert", "source": "assert bad(2) > 0\n", "line": 3},
]


def _warm_up():
    """Runs representative requests at build time, so that the snapshot componentize-py takes holds an
    interpreter whose bytecode is already specialised and whose caches are warm: every run starts from
    that snapshot. Events go to a list (host imports cannot be called before the snapshot)."""
    request = _dumps({
        "filename": "warmup.py",
        "source": _WARM_SOURCE,
        "module_name": "warmup",
        "output_cap": 65536,
        "chunks": [{"line": 0, "text": "import math\n"}, {"line": 1, "text": _WARM_SOURCE.split("\n", 1)[1]}],
        "chunk_index": [0, 1],
        "groups": [{"cases": [dict(c, mode="run") for c in _WARM_CASES]}],
    })
    sent = []
    Runner.sink = staticmethod(sent.append)
    Runner.begin = staticmethod(lambda group, index: None)
    _ProjectFinder.find = staticmethod(lambda name: '{"kind": "missing"}')
    try:
        for _ in range(20):
            sent.clear()
            WitWorld().run(request)
            for event in sent:
                _loads(event)
        _warm_up_tests()
    finally:
        Runner.sink = staticmethod(_report)
        Runner.begin = staticmethod(_begin)
        _ProjectFinder.find = staticmethod(_find_module)
        _FINDER.runner = None
        sys.modules.pop("warmup", None)
        linecache.cache.pop("warmup.py", None)


def _warm_up_tests():
    """Runs the warm-up suite (`plumb_warm/test_warm.py`, written beside this file by the build)
    with pytest as a user's tests run, a few times: configuration, plugin registration, collection,
    fixtures and failure reports are then specialised in the snapshot, and a test run pays only for
    its own tests. Nothing of the suite stays: its modules, paths and cached lines are dropped."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plumb_warm")
    if not os.path.isfile(os.path.join(folder, "test_warm.py")):
        return
    path, argv, meta_path, modules = list(sys.path), list(sys.argv), list(sys.meta_path), set(sys.modules)
    cwd = os.getcwd()
    try:
        # The build's working directory ("/") cannot be entered again: the suite's own is.
        _chdir(folder)
        for _ in range(3):
            Runner({"filename": "test_warm.py"}).run_tests({"rootdir": folder, "file": "test_warm.py"})
    except BaseException:  # noqa: BLE001 - a warm-up that cannot run leaves a slower, correct runner
        pass
    finally:
        try:
            _chdir(cwd)
        except BaseException:  # noqa: BLE001 - the build may have no directory to go back to
            pass
        sys.path[:], sys.argv, sys.meta_path[:] = path, argv, meta_path
        for name in set(sys.modules) - modules:
            if (getattr(sys.modules[name], "__file__", None) or "").startswith(folder):
                del sys.modules[name]
        for name in [n for n in linecache.cache if str(n).startswith(folder) or n == "test_warm.py"]:
            linecache.cache.pop(name, None)
        try:
            sys.monitoring.restart_events()
        except BaseException:  # noqa: BLE001
            pass


# Standard-library modules that must not be imported at build time: they act on import (open a
# browser, print), are GUI or test suites, or cannot work without a real OS.
_NO_PRELOAD = {
    "antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test", "lib2to3", "ensurepip",
    "venv", "pydoc_data", "__main__", "__phello__", "xxlimited", "xxsubtype",
}


def _preload_stdlib():
    """Imports every standard-library module (and package submodule) that WASI CPython can import,
    so that the component holds them all: the sandbox has no file system to import from at run
    time, and examples use `pathlib`, `pickle`, `email`, `configparser`, the `idna` codec, ..."""
    import importlib
    import pkgutil

    def load(name):
        try:
            return importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - whatever fails to import here is simply absent
            return None

    for name in sorted(sys.stdlib_module_names):
        # Private modules too: `_strptime` (datetime.strptime), `_pydecimal`, `_markupbase`, ...
        if name in _NO_PRELOAD or name.startswith("__"):
            continue
        module = load(name)
        path = getattr(module, "__path__", None)
        if not path:
            continue
        for info in pkgutil.walk_packages(path, name + ".", onerror=lambda _name: None):
            parts = info.name.split(".")
            # Private submodules too (`unittest._log`, `importlib.metadata._adapters`: imported
            # lazily by the package); never a `__main__`, which runs a program.
            if any(p in ("test", "tests", "idle_test") or p.startswith("__") for p in parts[1:]):
                continue
            load(info.name)
    # Every codec, looked up by name at run time (`'x'.encode('idna')`).
    for info in pkgutil.iter_modules(importlib.import_module("encodings").__path__, "encodings."):
        load(info.name)


class _Unsupported(RuntimeError):
    """Raised where the sandbox lacks what the code needs (threads, processes, the network, ...):
    the host reports the example as not judged, never as failing."""

    def __init__(self, feature, message):
        RuntimeError.__init__(self, message)
        self.feature = feature


def _unsupported(feature, what):
    def refuse(*args, **kwargs):
        raise _Unsupported(feature, "%s: the sandbox has no %s" % (what, feature))

    refuse.__name__ = what.rpartition(".")[2]
    return refuse


def _unsupported_feature(error):
    """The feature the sandbox lacked, if the exception (or one it came from) says so."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, _Unsupported):
            return error.feature
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def _stat_modes(real):
    """WASI reports a file's type but no permission bits: the usual ones of a user's own files
    are given (0o755 for directories, 0o644 for files), as code checking `st_mode` expects."""
    import stat as _stat

    def patched(*args, **kwargs):
        result = real(*args, **kwargs)
        mode = result.st_mode
        if mode & 0o7777 == 0:
            if _stat.S_ISDIR(mode):
                mode |= 0o755
            elif _stat.S_ISLNK(mode):
                mode |= 0o777
            else:
                mode |= 0o644
            cls, (values, extra) = result.__reduce__()
            result = cls((mode,) + tuple(values)[1:], extra)
        return result

    patched.__name__ = real.__name__
    patched.__doc__ = real.__doc__
    return patched


# Linux's numbers for what WASI numbers its own way (there AF_INET is 1, SOCK_STREAM 6): code and
# tests compare them with the numbers of the POSIX hosts users run on (`family == 2`).
_POSIX_SOCKET_NUMBERS = {
    "AF_UNSPEC": 0, "AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10,
    "SOCK_STREAM": 1, "SOCK_DGRAM": 2, "SOCK_RAW": 3, "SOCK_RDM": 4, "SOCK_SEQPACKET": 5,
}


def _posix_socket_numbers(socket):
    import _socket

    families = {}
    for name, value in _POSIX_SOCKET_NUMBERS.items():
        if name.startswith("AF_") and hasattr(_socket, name):
            families[value] = getattr(_socket, name)
        setattr(_socket, name, value)

    def by_family(real):
        def call(family, *args):
            return real(families.get(family, family), *args)

        call.__name__ = real.__name__
        call.__doc__ = real.__doc__
        return call

    for name in ("inet_pton", "inet_ntop"):
        if hasattr(_socket, name):
            setattr(_socket, name, by_family(getattr(_socket, name)))
    # The module's enums (`AddressFamily`, `SocketKind`) are built from `_socket` when it runs.
    return importlib.reload(socket)


class _NullStream(io.TextIOBase):
    """What is written to the null device: nothing kept."""

    def writable(self):
        return True

    def write(self, text):
        return len(text)


def _null_log_files():
    """WASI has no `/dev/null`: a log file there (pytest's default `log_file`, code that silences
    a logger that way) writes nowhere, as on POSIX, instead of failing to open."""
    import logging

    devnull = os.path.abspath(os.devnull)
    real_open = logging.FileHandler._open

    def _open(self):
        if self.baseFilename == devnull:
            return _NullStream()
        return real_open(self)

    logging.FileHandler._open = _open


def _install_platform():
    """What WASI lacks and code calls: given here so that such code fails as `_Unsupported` (not
    judged) rather than as the program's own error, or works as on a POSIX host (permission bits)."""
    import _thread
    import socket
    import subprocess
    import threading

    for module in (_thread, threading):
        for name in ("start_new_thread", "start_joinable_thread", "_start_new_thread", "_start_joinable_thread"):
            if hasattr(module, name):
                setattr(module, name, _unsupported("threads", "starting a thread"))
    subprocess.Popen.__init__ = _unsupported("processes", "starting a process")
    socket = _posix_socket_numbers(socket)
    _null_log_files()
    socket.socket.__init__ = _unsupported("the network", "opening a socket")
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "create_connection",
                 "create_server", "socketpair"):
        if hasattr(socket, name):
            setattr(socket, name, _unsupported("the network", "socket." + name))
    # The identity of a user's own process (pytest's tmp_path names its directory after it).
    for name in ("getuid", "geteuid", "getgid", "getegid"):
        if not hasattr(os, name):
            setattr(os, name, lambda: 1000)
    if not hasattr(os, "umask"):
        # The process's file-creation mask (pytest's cache sets it): kept, as a POSIX host does.
        mask = [0o022]

        def umask(new):
            old, mask[0] = mask[0], new
            return old

        os.umask = umask
    for name in ("fork", "forkpty", "pipe", "pipe2", "kill", "killpg", "system", "execv", "execve", "spawnv",
                 "getppid", "getpgrp", "getlogin", "setsid", "wait",
                 "waitpid", "chown", "lchown", "setuid", "setgid", "nice", "getloadavg", "dup2", "mkfifo"):
        if not hasattr(os, name):
            setattr(os, name, _unsupported("processes" if name in ("fork", "forkpty", "system", "execv", "execve",
                                                                   "spawnv", "wait", "waitpid", "kill", "killpg")
                                           else "POSIX process functions", "os." + name))
    os.stat = _stat_modes(os.stat)
    os.lstat = _stat_modes(os.lstat)
    os.fstat = _stat_modes(os.fstat)


def _host_rewrites():
    """pytest's assertion rewriter finds test modules and conftest files on the disk (in the order
    of `sys.path`, as pytest's import mode set it) and reads them there or from a cached pyc. It
    gets the host's text of the same file instead (the editor's unsaved buffer), recorded like
    every import, and never a pyc of the user's."""
    from _pytest.assertion import rewrite

    if getattr(rewrite, "_plumb_hosted", False):
        return
    texts = {}
    # By file: the host's key for its text, and the rewritten code an earlier run made of it.
    keys = {}
    find_on_disk = rewrite.AssertionRewritingHook.find_spec
    rewrite_from_disk = rewrite._rewrite_test

    def find_spec(self, name, path=None, target=None):
        spec = find_on_disk(self, name, path, target)
        if spec is not None and spec.origin:
            try:
                answer = _loads(_FINDER.find(name))
            except _BaseException:
                answer = {}
            origin = answer.get("origin") or ""
            if answer.get("kind") == "source" and os.path.normpath(origin) == os.path.normpath(spec.origin):
                source = answer["source"]
                texts[os.path.normpath(spec.origin)] = source
                keys[os.path.normpath(spec.origin)] = (answer.get("key"), answer.get("rewritten"))
                linecache.cache[spec.origin] = (len(source), None, source.splitlines(True), spec.origin)
        return spec

    def rewrite_test(fn, config):
        source = texts.get(os.path.normpath(str(fn)))
        if source is None:
            return rewrite_from_disk(fn, config)
        strfn = str(fn)
        key, cached = keys.get(os.path.normpath(strfn), (None, None))
        # The rewriting depends on the file's text and name, and on one setting: the cache is
        # used only with that setting at its default.
        plain = not config.getini("enable_assertion_pass_hook")
        if cached and plain:
            try:
                return os.stat(fn), _marshal_loads(_a2b(cached))
            except _BaseException:
                pass
        data = source.encode("utf-8")
        tree = ast.parse(data, filename=strfn)
        rewrite.rewrite_asserts(tree, data, strfn, config)
        code = compile(tree, strfn, "exec", dont_inherit=True)
        if plain:
            _remember_module_code(key, code, ":rewritten")
        return os.stat(fn), code

    rewrite.AssertionRewritingHook.find_spec = find_spec
    rewrite._rewrite_test = rewrite_test
    rewrite._read_pyc = lambda *args, **kwargs: None
    rewrite._plumb_hosted = True


def _preload_pytest():
    """pytest and its plugins, bundled from the build's `-p` path (`runtime.rs`), imported now so
    that the snapshot holds them. Absent, the user's tests are simply not run."""
    import importlib
    import pkgutil

    for top in ("pytest", "_pytest", "pluggy", "iniconfig", "packaging"):
        try:
            module = importlib.import_module(top)
        except BaseException:  # noqa: BLE001
            continue
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), top + ".", onerror=lambda _name: None):
            try:
                importlib.import_module(info.name)
            except BaseException:  # noqa: BLE001 - optional parts (pytester's extras) may not import
                pass

    _speed_up_pytest()


def _speed_up_pytest():
    """Two costs of pytest's start that are the same in every run, kept instead of paid again (with
    the warm-up, they halve the time to a run's first test: 110 to 60 ms). pluggy reads every hook
    function's signature (`inspect.signature`, slow) each time a plugin registers, and every run
    registers pytest's ~40 plugins anew; a function's parameters do not change, so each function's
    answer is kept (by the function object: bound methods of new plugin instances share it)."""
    try:
        from pluggy import _hooks
    except BaseException:  # noqa: BLE001
        return
    read = _hooks.varnames
    if getattr(read, "_plumb_memo", False):
        return
    known = {}

    def varnames(func):
        target = func.__func__ if inspect.ismethod(func) else func
        if not inspect.isfunction(target):
            return read(func)
        key = (target, inspect.ismethod(func))
        found = known.get(key)
        if found is None:
            found = known[key] = read(func)
        return found

    varnames._plumb_memo = True
    _hooks.varnames = varnames

    # pytest builds its argparse parser (500-odd options) anew for each of the ~6 times it parses
    # the command line in a run; the same options give the same parser, so it is kept per option
    # set (argparse parsers keep no state between parses).
    try:
        from _pytest.config import argparsing
    except BaseException:  # noqa: BLE001
        return
    build = argparsing.Parser._getparser

    def _getparser(self):
        key = tuple(id(o) for g in [*self._groups, self._anonymous] for o in [g, *g.options])
        kept = getattr(self, "_plumb_parser", None)
        if kept is None or kept[0] != key:
            kept = self._plumb_parser = (key, build(self))
        return kept[1]

    argparsing.Parser._getparser = _getparser


_preload_stdlib()
_preload_pytest()
_install_platform()
_warm_up()
# Everything alive now is part of the snapshot every run starts from. Freezing it keeps the cyclic
# garbage collector from walking (and so writing to, and copy-on-write faulting) those pages.
gc.collect()
gc.freeze()
