"""Shared pieces of the command lines: error handling and dataset flags."""

import functools
import json
import sys

from core.base.errors import StudioError


def friendly_errors(main):
    """Turn StudioError (and Ctrl-C) into one line on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(main)
    def wrapper(argv=None):
        try:
            return main(argv)
        except StudioError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    return wrapper


def add_data_flags(parser) -> None:
    parser.add_argument("--data-dir", help="folder holding the Fashion-MNIST idx files (or FMNIST_DATA_DIR)")


def print_json(record: dict) -> None:
    print(json.dumps(record), flush=True)
