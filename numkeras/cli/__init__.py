"""The ``numkeras`` command (also ``python -m numkeras``): train, evaluate, predict.

``numkeras train`` trains the seed's network on MNIST (falling back, offline, to a real
5,000-digit sample) and writes the model, its history and figures; ``numkeras evaluate
MODEL`` and ``numkeras predict MODEL IMAGE...`` use a saved model. Run ``numkeras COMMAND
--help`` for the options.

Mistakes in the input are reported as one line on stderr with a non-zero exit code (2 for
usage errors); ``--debug`` shows the traceback. matplotlib and Pillow are imported only
by the commands that need them.
"""

from __future__ import annotations

import sys
import traceback

from numkeras.cli._common import (
    FAILURE_EXIT,
    INTERRUPTED_EXIT,
    USAGE_EXIT,
    CLIError,
    UsageError,
    one_line,
)

__all__ = ["CLIError", "UsageError", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    from numkeras.cli._parser import build_parser, wants_debug

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else USAGE_EXIT
    debug = bool(getattr(args, "debug", False)) or wants_debug(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return USAGE_EXIT
    prog = f"numkeras {args.command}"
    try:
        return args.handler(args)
    except CLIError as exc:
        if debug:
            traceback.print_exc()
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT
    except BrokenPipeError:  # e.g. `numkeras predict ... | head -1`
        sys.stderr.close()
        return FAILURE_EXIT
    except Exception as exc:  # a bug, not a user mistake: still one line unless --debug
        if debug:
            traceback.print_exc()
        else:
            print(f"{prog}: error: {type(exc).__name__}: {one_line(exc)} (run again with "
                  "--debug to see the traceback)", file=sys.stderr)
        return FAILURE_EXIT
