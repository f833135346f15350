"""Run a Markdown page's ```python blocks in order, as a reader would, and check what they print.

A block's `print(...)` line followed by `# text` comment lines promises that output: each promised line
must be among the lines the block printed.
"""
import contextlib
import io
import re


def python_blocks(text):
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def promised_outputs(block):
    """The comment lines right under a `print(...)` line: the output the page promises, in order."""
    lines = block.splitlines()
    promises, reading = [], False
    for line in lines:
        if line.startswith("print("):
            reading = True
        elif reading and line.startswith("# "):
            promises.append(line[2:])
        else:
            reading = False
    return promises


def run_page(text, where):
    """Run every python block of `text` in one namespace; fail naming `where` and the block on a broken promise."""
    namespace = {"__name__": where}
    for number, block in enumerate(python_blocks(text), 1):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(block, f"{where} python block {number}", "exec"), namespace)
        lines = printed.getvalue().splitlines()
        for promise in promised_outputs(block):
            assert promise in lines, f"{where} block {number}: the page promises {promise!r}, the snippet printed {lines}"
    return namespace
