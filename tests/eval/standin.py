#!/usr/bin/env python3
"""A stand-in for a strong code model: an OpenAI-compatible server on loopback that answers
plumb's prompts about the functions of this labelled set, with a chosen quality.

    python3 tests/eval/standin.py --p 0.7 --port 8088 &
    plumb eval tests/eval --model-url http://127.0.0.1:8088 --model standin --model-chat

Candidates: with probability p the function's correct twin (correct/*.py), otherwise a wrong
mutant of it (a one-spot change: comparison, constant, boolean operator, arithmetic). Generated
tests: asserts on the docstring's calls and on edge cases near them (empty, zero, negative,
duplicates), their expected values computed by the correct twin; a share of them is wrong.
Options make the model worse in the ways real ones are: correlated wrong answers (every wrong
sample is the same mutant), identical samples (no variation between correct answers), truncated
answers (finish_reason "length"), looping and crashing candidates.

The only code this runs on the host is this set's own hand-written functions (to compute expected
values); it never runs anything it receives.
"""

import argparse
import ast
import copy
import hashlib
import json
import random
import re
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent


def functions_of(path):
    """name -> source of each top-level function in a file."""
    text = path.read_text()
    tree = ast.parse(text)
    return {n.name: ast.get_source_segment(text, n) for n in tree.body if isinstance(n, ast.FunctionDef)}


class Mutator(ast.NodeTransformer):
    """Applies the `target`-th possible one-spot mutation."""

    FLIPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
    ARITH = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv}

    def __init__(self, target):
        self.target = target
        self.seen = 0

    def hit(self):
        self.seen += 1
        return self.seen - 1 == self.target

    def visit_Compare(self, node):
        self.generic_visit(node)
        op = type(node.ops[0])
        if op in self.FLIPS and self.hit():
            node.ops[0] = self.FLIPS[op]()
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        op = type(node.op)
        if op in self.ARITH and self.hit():
            node.op = self.ARITH[op]()
        return node

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        if self.hit():
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        return node

    def visit_Constant(self, node):
        if isinstance(node.value, int) and not isinstance(node.value, bool) and self.hit():
            return ast.copy_location(ast.Constant(node.value + 1), node)
        return node


def mutants(source):
    tree = ast.parse(source)
    out = []
    for target in range(60):
        m = Mutator(target)
        mutated = m.visit(copy.deepcopy(tree))
        if m.seen <= target:
            break
        ast.fix_missing_locations(mutated)
        # Keep the docstring as written: only the body changes.
        text = ast.unparse(mutated)
        out.append(text)
    return out


class Timeout(Exception):
    pass


def call(source, name, call_text, seconds=0.2):
    """What `call_text` gives with `source` defined: ('ok', repr) or ('raise', type name)."""
    env = {}

    def alarm(*_):
        raise Timeout()

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        exec(compile(source, "<standin>", "exec"), env)
        return ("ok", repr(eval(call_text, env)))
    except Timeout:
        return ("raise", "Timeout")
    except Exception as e:  # the set's own functions: any exception is an answer
        return ("raise", type(e).__name__)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def near(value):
    """Edge cases near an example's argument."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [0, -value, value + 1, 1]
    if isinstance(value, str):
        return ["", value.upper(), value[:1], value + value]
    if isinstance(value, list):
        return [[], value[:1], value + value[:1], list(reversed(value))]
    if isinstance(value, tuple):
        return [tuple(reversed(value))]
    if isinstance(value, dict):
        return [{}]
    return []


def calls_of(source, name):
    """The docstring's calls, and those with edge cases near their arguments."""
    found = []
    for line in source.splitlines():
        line = line.strip()
        if line.startswith(">>> ") and f"{name}(" in line:
            found.append(line[4:])
    out = list(found)
    for text in found:
        try:
            node = ast.parse(text, mode="eval").body
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        except Exception:
            continue
        for i, a in enumerate(args):
            for v in near(a):
                changed = args[:i] + [v] + args[i + 1 :]
                parts = [repr(x) for x in changed] + [f"{k}={v!r}" for k, v in kwargs.items()]
                out.append(f"{name}({', '.join(parts)})")
    seen, unique = set(), []
    for c in out:
        if c not in seen:
            seen.add(c)
            unique.append(c)
    return found, unique


class Problem:
    def __init__(self, name, source, twins=()):
        self.name = name
        self.source = source
        self.tests = []  # (call, repr)
        docstring_calls, all_calls = calls_of(source, name)
        for c in all_calls:
            kind, value = call(source, name, c)
            if kind == "ok":
                self.tests.append((c, value))
        probes = [c for c, _ in self.tests]
        truth = {c: v for c, v in self.tests}
        self.plausible, self.wrong = [], []
        # The set's own buggy versions are wrong answers a model might write, too.
        for m in list(twins) + mutants(source):
            results = {c: call(m, name, c) for c in probes}
            if all(r == ("ok", truth[c]) for c, r in results.items()):
                continue  # not observably wrong on these inputs
            examples_pass = all(results[c] == ("ok", truth[c]) for c in probes if c in docstring_calls)
            (self.plausible if examples_pass else self.wrong).append(m)

    def wrong_answer(self, rng, correlated):
        pool = self.plausible or self.wrong
        if not pool:
            return None
        if correlated:
            key = int(hashlib.sha256(self.name.encode()).hexdigest(), 16)
            return pool[key % len(pool)]
        # Wrong answers that still pass the docstring's examples are the ones that matter; real
        # models write both kinds.
        if self.plausible and self.wrong and rng.random() < 0.3:
            return rng.choice(self.wrong)
        return rng.choice(pool)


def load(only=None):
    correct, twins = {}, {}
    for path in sorted((HERE / "correct").glob("*.py")):
        correct.update(functions_of(path))
    for path in sorted((HERE / "buggy").glob("*.py")):
        for name, src in functions_of(path).items():
            twins.setdefault(name, []).append(src)
    return {
        name: Problem(name, src, twins.get(name, ()))
        for name, src in correct.items()
        if only is None or name in only
    }


def answer_candidate(problem, rng, opts, index):
    finish = "stop"
    roll = rng.random()
    if roll < opts.loop:
        header = problem.source.split('"""')[0] + '"""' + problem.source.split('"""')[1] + '"""\n'
        text = header + "    while True:\n        pass\n"
    elif roll < opts.loop + opts.crash:
        header = problem.source.split('"""')[0] + '"""' + problem.source.split('"""')[1] + '"""\n'
        text = header + "    raise RuntimeError('not implemented')\n"
    elif rng.random() < opts.p:
        text = problem.source
    else:
        text = problem.wrong_answer(rng, opts.correlated) or problem.source
    if not opts.identical:
        text = text.rstrip("\n") + f"\n    # sample {index}\n"
    if rng.random() < opts.truncate:
        lines = text.rstrip("\n").split("\n")
        text = "\n".join(lines[: max(2, len(lines) * 2 // 3)]) + "\n"
        finish = "length"
    return f"```python\n{text}```", finish


def answer_tests(problem, rng, opts):
    if not problem.tests:
        return "```python\n```", "stop"
    chosen = rng.sample(problem.tests, min(len(problem.tests), opts.tests_per_sample))
    lines = []
    for c, value in chosen:
        if rng.random() < opts.wrong_tests:
            try:
                v = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                v = None
            if isinstance(v, bool):
                value = repr(not v)
            elif isinstance(v, (int, float)):
                value = repr(v + 1)
            elif isinstance(v, str):
                value = repr(v + "x")
            elif isinstance(v, (list, tuple)):
                value = repr(v[1:] if v else [0])
            else:
                value = "None"
        lines.append(f"assert {c} == {value}")
    return "```python\n" + "\n".join(lines) + "\n```", "stop"


def make_handler(problems, opts):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.reply(200, {"object": "list", "data": [{"id": "standin", "object": "model"}]})

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            request = json.loads(self.rfile.read(length) or b"{}")
            chat = "messages" in request
            prompt = request["messages"][-1]["content"] if chat else request.get("prompt", "")
            n = int(request.get("n", 1))
            match = re.search(r"def (\w+)\(", prompt)
            problem = problems.get(match.group(1)) if match else None
            seed = hashlib.sha256(f"{opts.seed}:{request.get('seed')}:{prompt}".encode()).digest()
            rng = random.Random(seed)
            choices = []
            for i in range(n):
                if problem is None:
                    text, finish = "```python\n```", "stop"
                elif "unit tests" in prompt or "# check the correctness" in prompt:
                    text, finish = answer_tests(problem, rng, opts)
                else:
                    text, finish = answer_candidate(problem, rng, opts, i)
                if chat:
                    choices.append({"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": finish})
                else:
                    choices.append({"index": i, "text": text, "finish_reason": finish})
            self.reply(200, {"id": "standin", "object": "chat.completion" if chat else "text_completion", "choices": choices})

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--p", type=float, default=0.7, help="probability a candidate is the correct twin")
    ap.add_argument("--correlated", action="store_true", help="every wrong candidate of a function is the same mutant")
    ap.add_argument("--identical", action="store_true", help="correct samples are byte-identical")
    ap.add_argument("--truncate", type=float, default=0.0, help="share of answers cut off (finish_reason length)")
    ap.add_argument("--loop", type=float, default=0.0, help="share of candidates that loop forever")
    ap.add_argument("--crash", type=float, default=0.0, help="share of candidates that raise")
    ap.add_argument("--wrong-tests", type=float, default=0.1, help="share of generated asserts that are wrong")
    ap.add_argument("--tests-per-sample", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--only", help="answer about these functions only (comma-separated; faster to start)")
    opts = ap.parse_args()
    problems = load(set(opts.only.split(",")) if opts.only else None)
    server = ThreadingHTTPServer(("127.0.0.1", opts.port), make_handler(problems, opts))
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
