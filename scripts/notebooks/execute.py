#!/usr/bin/env python3
"""Runs one notebook headlessly with nbclient (the executor behind `jupyter nbconvert
--execute`) and writes a JSON report naming every failing cell.

Why not `jupyter nbconvert --execute`: tslab reports a failing cell only through the
execute_reply status plus stderr text (no `error` output, no traceback), so after a failure
nbconvert names no cell and, without --allow-errors, writes no notebook. nbclient's hooks give
the index of the cell whose reply was an error, the cell running at a timeout or kernel death,
and the executed notebook is written in every case (outputs up to the failure).

Usage: execute.py IN.ipynb OUT.ipynb --kernel NAME --timeout S --report REPORT.json
Exit status: 0 when every cell ran, 1 when a cell failed (see the report), 2 on bad usage.
"""
import argparse
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def first_line(source):
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:120]
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--timeout", type=int, required=True, help="seconds per cell")
    ap.add_argument("--startup-timeout", type=int, default=120)
    ap.add_argument("--report", required=True)
    args = ap.parse_args()

    nb = nbformat.read(args.input, as_version=4)
    state = {"current": None, "t0": None, "cells": {}, "failures": []}

    def on_cell_execute(cell, cell_index):
        state["current"] = cell_index
        state["t0"] = time.monotonic()
        state["start"] = time.time()

    def on_cell_executed(cell, cell_index, execute_reply):
        state["cells"][cell_index] = {
            "seconds": time.monotonic() - state["t0"],
            "start": state["start"],
            "end": time.time(),
            "status": execute_reply["content"].get("status"),
        }

    def on_cell_error(cell, cell_index, execute_reply):
        state["failures"].append({"cell": cell_index, "kind": "error"})

    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        startup_timeout=args.startup_timeout,
        allow_errors=False,
        record_timing=True,
        on_cell_execute=on_cell_execute,
        on_cell_executed=on_cell_executed,
        on_cell_error=on_cell_error,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.input))}},
    )
    t_start = time.monotonic()
    try:
        client.execute()
    except CellExecutionError:
        pass  # recorded by on_cell_error
    except CellTimeoutError:
        state["cells"][state["current"]] = {
            "seconds": time.monotonic() - state["t0"],
            "start": state["start"],
            "end": time.time(),
            "status": "timeout",
        }
        state["failures"].append(
            {"cell": state["current"], "kind": "timeout", "message": f"no reply within {args.timeout} s"}
        )
    except DeadKernelError as e:
        state["failures"].append({"cell": state["current"], "kind": "dead-kernel", "message": str(e)})
    except Exception as e:  # kernel failed to start, etc.
        state["failures"].append(
            {"cell": state["current"], "kind": "exception", "message": f"{type(e).__name__}: {e}"}
        )
    seconds = time.monotonic() - t_start
    nbformat.write(nb, args.output)

    for f in state["failures"]:
        i = f.get("cell")
        if i is not None and 0 <= i < len(nb.cells):
            f["source"] = first_line(nb.cells[i].source)
    report = {
        "notebook": args.input,
        "executed": args.output,
        "seconds": seconds,
        "cells": {str(k): v for k, v in state["cells"].items()},
        "failures": state["failures"],
    }
    with open(args.report, "w") as fh:
        json.dump(report, fh, indent=1)
    return 1 if state["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
