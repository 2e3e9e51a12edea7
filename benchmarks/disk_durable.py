#!/usr/bin/python3
"""Measure the disk's durable small-file creates per second.

Each create is what a Maildir delivery must do before it may reply 250:
write SIZE octets to a new file in tmp/, fsync the file, rename it into
new/ and fsync new/, so that both the data and the name survive a crash.
Runs once per writer count in WRITERS, each time with a fresh folder under
--dir, and with CREATES files in all shared among the writer threads.
Every writer fsyncs the folder itself, so concurrent writers share no
fsync unless the file system merges them.

Prints one line per writer count. Put --dir on the file system of the
server's data folder, because that is the limit the SMTP benchmark meets.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

import postern_bench as bench


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dir", default=None,
        help="folder in which the temporary test folder is made (default: "
             "the system temporary folder, where the server benchmarks "
             "put their data folder)")
    parser.add_argument(
        "--writers", type=bench.positive_int, nargs="+", default=[1, 20],
        help="writer thread counts, one scenario each "
             "(default: %(default)s)")
    parser.add_argument(
        "--creates", type=bench.positive_int, default=2000,
        help="files created per scenario (default: %(default)s)")
    parser.add_argument(
        "--size", type=bench.positive_int, default=10240,
        help="octets per file (default: %(default)s)")
    parser.add_argument(
        "--timeout", type=float, default=300.0,
        help="seconds after which a scenario stops and reports failure "
             "(default: %(default)s)")
    return parser.parse_args()


def fsync_folder(path):
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def create_durably(folder, name, data):
    """Write `data` to tmp/NAME, fsync it, rename it to new/NAME and fsync
    new/."""
    temporary = os.path.join(folder, "tmp", name)
    final = os.path.join(folder, "new", name)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                         0o600)
    try:
        written = os.write(descriptor, data)
        if written != len(data):
            raise OSError(f"short write to {temporary}: {written} octets")
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.rename(temporary, final)
    fsync_folder(os.path.join(folder, "new"))


def run_scenario(base, writers, args):
    folder = tempfile.mkdtemp(prefix="postern-disk-", dir=base)
    try:
        for sub in ("tmp", "new"):
            os.mkdir(os.path.join(folder, sub))
        fsync_folder(folder)
        data = os.urandom(args.size)
        counter = bench.WorkCounter(args.creates,
                                    time.monotonic() + args.timeout)

        def writer(index):
            sequence = 0
            while counter.take():
                create_durably(folder, f"{index}.{sequence}", data)
                sequence += 1
                counter.finish_one()

        started = time.monotonic()
        bench.run_workers(writers, writer, counter)
        elapsed = time.monotonic() - started
        created = len(os.listdir(os.path.join(folder, "new")))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    complete = counter.done == args.creates and not counter.errors
    bench.print_result(f"disk_durable writers={writers}", {
        "dir": os.path.abspath(base),
        "size": args.size,
        "created": created,
        "seconds": f"{elapsed:.2f}",
        "creates_per_s": f"{counter.done / elapsed:.1f}",
        "result": "ok" if complete else "FAILED",
    })
    for error in counter.errors:
        print(f"  error: {error}", file=sys.stderr)
    return complete


def main():
    args = parse_arguments()
    base = args.dir if args.dir is not None else tempfile.gettempdir()
    complete = True
    for writers in args.writers:
        complete = run_scenario(base, writers, args) and complete
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
