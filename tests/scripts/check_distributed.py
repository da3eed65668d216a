"""Checks directspec-train --distributed under mpirun (tests/mpi.cmake; docs/distributed.md).

  check_distributed.py --cli PROGRAM --mpirun MPIRUN --data DIR --work DIR MODE [options]

Modes:
  equal      one process and `--ranks R` ranks with the same flags (and the same M) write the same
             user.npy / item.npy bytes, the same model file bytes and the same metrics and losses
             in the JSON log; only rank 0 prints the final line.
  resume     a 2-rank run that checkpoints after epoch 1 (rank 0 writes) and a 2-rank run resumed
             from it (every rank reads) end with the tables of one uninterrupted process.
  kill       a rank of a running 2-rank job is killed with SIGKILL: the job must end within
             KILL_BOUND seconds, fail, and say which rank died.
  fail       one rank of two cannot read its --resume file (relative path, per-rank working
             directories: the missing-file-on-one-node case): the job must end within
             KILL_BOUND seconds with that rank's message naming the file.
  singleton  --distributed without mpirun runs as one rank (Open MPI singleton) and equals the
             run without --distributed.
Prints what it compared; exits 1 on the first difference.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

KILL_BOUND = 30.0  # seconds from the kill to the end of the job (the lead measures ~1 s)

# Small, fast runs: 30 batches of 128 per epoch, 4 batches per update.
BASE = ["--batch", "128", "--steps-per-epoch", "30", "--micro-batches", "4", "--dim", "16",
        "--threads", "1", "--seed", "3", "--eval-every", "1"]
# JSON keys that are allowed to differ: wall times, memory, and the distributed run's own fields.
VOLATILE = {"train_seconds", "eval_seconds", "total_seconds", "peak_memory_mb", "ranks",
            "shared_updates", "shared_batches", "own_batches", "exchange_bytes_per_update",
            "share_seconds", "exchange_seconds", "replicated_seconds", "share_cpu_seconds",
            "exchange_cpu_seconds", "replicated_cpu_seconds"}


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run(command, cwd=None, timeout=240):
    print("$ " + " ".join(command), flush=True)
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        print(done.stdout)
        fail(f"exit code {done.returncode}")
    return done.stdout


def mpirun(args, ranks):
    command = [args.mpirun, "-n", str(ranks)]
    if ranks > 2:
        command.append("--oversubscribe")
    return command


def flags(args, model):
    return ["--data", args.data, "--model", model, "--filter", "directspec+"] + BASE


def json_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def same_json(a_path, b_path):
    a, b = json_lines(a_path), json_lines(b_path)
    if len(a) != len(b):
        fail(f"{a_path} has {len(a)} lines, {b_path} {len(b)}")
    compared = 0
    for line_a, line_b in zip(a, b):
        keys = (set(line_a) | set(line_b)) - VOLATILE
        for key in sorted(keys):
            if line_a.get(key) != line_b.get(key):
                fail(f"JSON '{key}': {line_a.get(key)!r} (one process) vs {line_b.get(key)!r}")
            compared += 1
    print(f"JSON logs agree on {compared} values over {len(a)} lines")


def same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        if fa.read() != fb.read():
            fail(f"{a} and {b} differ")
    print(f"{os.path.basename(a)}: byte for byte equal")


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def outputs(dir_, epochs):
    return ["--epochs", str(epochs), "--export-npy", os.path.join(dir_, "npy"), "--json",
            os.path.join(dir_, "log.json"), "--save-model", os.path.join(dir_, "model.dsm")]


def compare_runs(one, many, model=True):
    same_bytes(os.path.join(one, "npy", "user.npy"), os.path.join(many, "npy", "user.npy"))
    same_bytes(os.path.join(one, "npy", "item.npy"), os.path.join(many, "npy", "item.npy"))
    if model:
        same_bytes(os.path.join(one, "model.dsm"), os.path.join(many, "model.dsm"))
    same_json(os.path.join(one, "log.json"), os.path.join(many, "log.json"))


def mode_equal(args):
    one = fresh(os.path.join(args.work, f"equal-{args.model}-1"))
    many = fresh(os.path.join(args.work, f"equal-{args.model}-{args.ranks}"))
    run([args.cli] + flags(args, args.model) + outputs(one, 2) + ["--quiet"])
    out = run(mpirun(args, args.ranks) + [args.cli] + flags(args, args.model) + outputs(many, 2) +
              ["--distributed"])
    compare_runs(one, many)
    finals = [line for line in out.splitlines() if line.startswith("final ")]
    if len(finals) != 1:
        fail(f"{len(finals)} ranks printed the final line (only rank 0 prints)")
    if f"distributed: {args.ranks} ranks" not in out:
        fail("no 'distributed: R ranks' summary line")
    print("one final line (rank 0's)")


def mode_resume(args):
    one = fresh(os.path.join(args.work, "resume-1"))
    many = fresh(os.path.join(args.work, "resume-2"))
    run([args.cli] + flags(args, "mf") + outputs(one, 2) + ["--quiet"])
    checkpoint = os.path.join(many, "run.ckpt")
    first = fresh(os.path.join(many, "first"))
    run(mpirun(args, 2) + [args.cli] + flags(args, "mf") + outputs(first, 1) +
        ["--distributed", "--checkpoint", checkpoint])
    if not os.path.isfile(checkpoint):
        fail("rank 0 wrote no checkpoint")
    out = run(mpirun(args, 2) + [args.cli] + flags(args, "mf") + outputs(many, 2) +
              ["--distributed", "--resume", checkpoint])
    if out.count("resumed from") != 1:
        fail("expected one 'resumed from' line (rank 0's)")
    same_bytes(os.path.join(one, "npy", "user.npy"), os.path.join(many, "npy", "user.npy"))
    same_bytes(os.path.join(one, "npy", "item.npy"), os.path.join(many, "npy", "item.npy"))
    # The resumed log holds epoch 2 and the final line; compare them with the last two of one run.
    a, b = json_lines(os.path.join(one, "log.json"))[-2:], json_lines(os.path.join(many,
                                                                                   "log.json"))
    for line_a, line_b in zip(a, b[-2:]):
        for key in ["epoch", "loss", "recall@20", "ndcg@20"]:
            if line_a.get(key) != line_b.get(key):
                fail(f"resumed JSON '{key}': {line_a.get(key)!r} vs {line_b.get(key)!r}")
    print("resumed 2-rank run equals the uninterrupted single process")


def rank_pid(marker, rank):
    """The pid of the process of rank `rank` whose environment holds `marker`."""
    wanted = [marker.encode(), f"OMPI_COMM_WORLD_RANK={rank}".encode()]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{entry}/comm", "rb") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if all(w in env for w in wanted) and comm.startswith(b"directspec"):
            return int(entry)
    return None


def mode_kill(args):
    work = fresh(os.path.join(args.work, "kill"))
    marker = "DIRECTSPEC_TEST_JOB=" + uuid.uuid4().hex
    env = dict(os.environ)
    env[marker.split("=")[0]] = marker.split("=")[1]
    # Long enough never to finish by itself within the bound.
    command = mpirun(args, 2) + [args.cli] + flags(args, "mf") + [
        "--epochs", "100000", "--eval-every", "0", "--distributed", "--json",
        os.path.join(work, "log.json")]
    print("$ " + " ".join(command), flush=True)
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=env, start_new_session=True)
    try:
        pid, waited = None, 0.0
        while pid is None and waited < 60 and job.poll() is None:
            time.sleep(0.5)
            waited += 0.5
            pid = rank_pid(marker, 1)
        if pid is None:
            fail("rank 1 never appeared (or the job ended early)")
        time.sleep(2.0)  # let it train and enter the exchanges
        if job.poll() is not None:
            fail("the job ended before the kill")
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        try:
            out, _ = job.communicate(timeout=KILL_BOUND)
        except subprocess.TimeoutExpired:
            fail(f"the job still runs {KILL_BOUND:.0f} s after rank 1 was killed (a hang)")
        took = time.monotonic() - killed_at
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    print(out[-2000:])
    if job.returncode == 0:
        fail("the job exited 0 although a rank was killed")
    if "rank 1" not in out or ("signal 9" not in out and "Killed" not in out):
        fail("no message naming the killed rank and the signal")
    if os.path.exists(os.path.join(work, "log.json")):
        fail("a killed run left a half-written JSON log (outputs are all-or-nothing)")
    print(f"the job ended {took:.1f} s after the kill, exit code {job.returncode}, naming rank 1")


def mode_fail(args):
    work = fresh(os.path.join(args.work, "fail"))
    has_file, lacks_file = fresh(os.path.join(work, "node0")), fresh(os.path.join(work, "node1"))
    run([args.cli] + flags(args, "mf") + ["--epochs", "1", "--quiet", "--checkpoint",
                                          os.path.join(has_file, "run.ckpt")])
    # Rank 0 (in node0) resumes and enters training; rank 1 (in node1) cannot open run.ckpt.
    common = flags(args, "mf") + ["--epochs", "100000", "--eval-every", "0", "--distributed",
                                  "--resume", "run.ckpt"]
    command = [args.mpirun, "-n", "1", "--wdir", has_file, args.cli] + common + [
        ":", "-n", "1", "--wdir", lacks_file, args.cli] + common
    print("$ " + " ".join(command), flush=True)
    start = time.monotonic()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=KILL_BOUND + 30, start_new_session=True)
    except subprocess.TimeoutExpired:
        fail("the job hangs after rank 1 failed")
    took = time.monotonic() - start
    print(done.stdout[-2000:])
    if done.returncode == 0:
        fail("the job exited 0 although rank 1 failed")
    if "rank 1 of 2" not in done.stdout or "run.ckpt" not in done.stdout:
        fail("no message from rank 1 naming the file")
    if took > KILL_BOUND + 10:
        fail(f"the job took {took:.0f} s to end")
    print(f"the job ended in {took:.1f} s (start-up included), exit code {done.returncode}")


def mode_singleton(args):
    one = fresh(os.path.join(args.work, "singleton-plain"))
    single = fresh(os.path.join(args.work, "singleton-mpi"))
    run([args.cli] + flags(args, "mf") + outputs(one, 1) + ["--quiet"])
    out = run([args.cli] + flags(args, "mf") + outputs(single, 1) + ["--distributed"])
    if "distributed over 1 rank" not in out:
        fail("--distributed without mpirun did not report one rank")
    compare_runs(one, single)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--mpirun", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--model", default="mf")
    parser.add_argument("mode", choices=["equal", "resume", "kill", "fail", "singleton"])
    args = parser.parse_args()
    # Absolute: the fail mode runs ranks in their own working directories.
    args.cli, args.data, args.work = (os.path.abspath(p) for p in (args.cli, args.data, args.work))
    os.makedirs(args.work, exist_ok=True)
    if not os.path.isdir(args.data):
        print(f"SKIP: no data set at {args.data}")
        return 0
    {"equal": mode_equal, "resume": mode_resume, "kill": mode_kill, "fail": mode_fail,
     "singleton": mode_singleton}[args.mode](args)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
