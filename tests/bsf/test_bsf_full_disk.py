"""test_bsf_full_disk - issue 15, defect 2: gba-bsf whose stores live on a
small tmpfs that is then filled to the last byte.

- Session store, with group commit (commit_ms=20, the default) and with
  commit_ms=0: every B-TID a UE got with 200 must be in the store after the
  disk is freed and the BSF restarted; while the disk is full the BSF
  answers 503 with Retry-After, shows it on /metrics, logs the outage once,
  and takes bootstraps again by itself when space returns.
- Subscriber database (SQN reservations): while full, no vector is issued
  (503 with Retry-After); afterwards the card accepts every vector without a
  resynchronisation (no SQN handed out twice).  Once with the BSF's embedded
  database, once behind gba-hss-sim over Zh (it answers 4002
  DIAMETER_OUT_OF_SPACE, which the BSF turns into 503).

A real file system: tmpfs mounted by the test (root; CI runs as root).  When
mount is refused the test says why and exits 77 (meson: skipped).

    python3 test_bsf_full_disk.py GBA_BSF GBA_TEST_UE GBA_SUBSCRIBER [GBA_HSS_SIM]
"""
import errno
import os
import subprocess
import sys
import time

import bsfenv
import gbatest
import test_bsf_zh

TMPFS_SIZE = "1m"
MAX_UE_RUNS = 60        # bootstraps tried while the disk is full
WANT_503 = 5            # ... stopping after this many refusals
RETRY_AFTER = "3"


class Tmpfs:
    """A tmpfs of TMPFS_SIZE at path, unmounted on exit."""

    def __init__(self, path):
        self.path = path
        os.makedirs(path, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700",
                            "tmpfs", path], capture_output=True, text=True)
        self.mounted = r.returncode == 0
        self.error = (r.stderr or r.stdout).strip()

    def fill(self):
        """Write a file until the file system refuses another byte."""
        path = os.path.join(self.path, "filler")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (65536, 4096, 512, 1):
                while True:
                    try:
                        os.write(fd, b"\0" * size)
                    except OSError as e:
                        if e.errno != errno.ENOSPC:
                            raise
                        break
        finally:
            os.close(fd)
        return os.statvfs(self.path).f_bavail

    def free(self):
        os.unlink(os.path.join(self.path, "filler"))

    def close(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.path], capture_output=True)


def ue(tools, bsf, state):
    return bsfenv.run_ue(tools, bsf.url, state, extra=["--timeout", "10000"])


def metric(bsf, name):
    return bsf.metrics().get(name, -1)


def bootstraps_while_full(tools, bsf, state):
    """UE runs until WANT_503 refusals (at most MAX_UE_RUNS): (B-TIDs, refusals, others)."""
    ok, refused, other = [], [], []
    for _ in range(MAX_UE_RUNS):
        rc, out = ue(tools, bsf, state)
        if rc == 0 and out.get("status") == 200:
            ok.append(out["btid"])
        elif out.get("status") == 503:
            refused.append(out)
            if len(refused) >= WANT_503:
                break
        else:
            other.append(out)
    return ok, refused, other


def until_200(tools, bsf, state, tries=30):
    """After the disk was freed: bootstraps until one succeeds (bounded)."""
    for _ in range(tries):
        rc, out = ue(tools, bsf, state)
        if rc == 0 and out.get("status") == 200:
            return out
        time.sleep(0.2)
    return None


def check_refusals(checks, label, refused, cause_count):
    """cause_count: what /metrics counted for these refusals (None: not checked)."""
    checks.check(label + "the BSF answered 503 while the disk was full", len(refused) > 0,
                 "no 503")
    checks.check(label + "every 503 carries Retry-After", refused and
                 all(r.get("retry_after") == RETRY_AFTER for r in refused), str(refused[:2]))
    if cause_count is not None:
        checks.check(label + "/metrics counts them as store_unwritable",
                     cause_count == len(refused), f"{cause_count} vs {len(refused)}")


def session_store_round(checks, tools, procs, tmpfs, commit_ms):
    """The session store on the tmpfs, the subscriber database elsewhere."""
    label = f"[session store, commit_ms={commit_ms}] "
    name = f"bsf-c{commit_ms}"
    db = os.path.join(procs.dir, name + "-subscribers.db")
    bsfenv.add_subscriber(tools, db)
    state = os.path.join(procs.dir, name + "-card.sqn")
    store = "sqlite:" + os.path.join(tmpfs.path, name + "-sessions.db") + \
        f"?commit_ms={commit_ms}"
    bsf = bsfenv.Bsf(procs, tools, name=name, db=db, store=store, extra={
        "log.level": "info", "ub.retry_after": RETRY_AFTER + "s"}).start()
    before = [ue(tools, bsf, state)[1].get("btid") for _ in range(3)]
    left = tmpfs.fill()
    checks.check(label + "the tmpfs is full", left == 0, f"{left} blocks left")
    ok, refused, other = bootstraps_while_full(tools, bsf, state)
    m = bsf.metrics()
    print(f"{label}while full: {len(ok)} bootstraps answered 200, {len(refused)} 503, "
          f"{len(other)} other")
    check_refusals(checks, label, refused,
                   m.get('gba_bsf_failures_total{cause="store_unwritable"}', 0))
    checks.check(label + "no other answer than 200 or 503", not other, str(other[:2]))
    checks.check(label + "/metrics: gba_bsf_store_writable 0, write failures counted",
                 m.get("gba_bsf_store_writable") == 0 and
                 m.get("gba_bsf_store_write_failures_total", 0) >= 1, str(
                     {k: v for k, v in m.items() if "store" in k}))
    served = [b for b in ok if bsf.session(b)[0] == 200]
    checks.check(label + "sessions acknowledged while full are served meanwhile",
                 len(served) == len(ok), f"{len(served)} of {len(ok)}")
    tmpfs.free()
    after = until_200(tools, bsf, state)
    checks.check(label + "space back: bootstraps succeed again by themselves",
                 after is not None)
    if after:
        ok.append(after["btid"])
    checks.check(label + "/metrics: gba_bsf_store_writable 1 again",
                 metric(bsf, "gba_bsf_store_writable") == 1)
    log = bsf.log()
    checks.check(label + "the outage is logged once, and its end",
                 log.count("warn: session store cannot write (") == 1 and
                 "warn: session store writes again" in log, log[-2000:])
    bsf.check_clean_stop(checks)
    bsf.start()
    stored = [b for b in before + ok if bsf.session(b)[0] == 200]
    print(f"{label}after the restart: {len(stored)} of {len(before) + len(ok)} B-TIDs "
          f"answered with 200 are in the store")
    checks.check(label + "every B-TID answered with 200 is in the store after a restart",
                 len(stored) == len(before) + len(ok), f"{len(stored)} of {len(before + ok)}")
    bsf.check_clean_stop(checks)
    os.unlink(os.path.join(tmpfs.path, name + "-sessions.db"))


def zh_bsf(procs, tools, hss_bin, db):
    """gba-hss-sim on db and a gba-bsf taking its vectors over Zh."""
    port = gbatest.free_port()
    test_bsf_zh.start_hss(procs, hss_bin, db, port)
    bsf = bsfenv.Bsf(procs, tools, name="bsf-hss", extra={
        "av.source": "zh", "log.level": "info", "ub.retry_after": RETRY_AFTER + "s",
        "zh.origin_host": test_bsf_zh.BSF_ID, "zh.origin_realm": test_bsf_zh.REALM,
        "zh.hss_host": "127.0.0.1", "zh.hss_port": str(port),
        "zh.hss_realm": test_bsf_zh.REALM, "zh.hss_identity": test_bsf_zh.HSS_ID,
        **test_bsf_zh.bsf_tls(procs)},
        env=test_bsf_zh.LSAN_ENV).start()
    test_bsf_zh.wait_for_vectors(bsf)
    return bsf


def subscriber_db_round(checks, tools, procs, tmpfs, hss_bin=None):
    """The subscriber database on the tmpfs: SQN reservations cannot be written."""
    label = "[subscriber database behind gba-hss-sim] " if hss_bin else "[subscriber database] "
    name = "hss" if hss_bin else "embedded"
    db = os.path.join(tmpfs.path, f"subscribers-{name}.db")
    bsfenv.add_subscriber(tools, db)
    state = os.path.join(procs.dir, f"subdb-{name}-card.sqn")
    if hss_bin:
        bsf = zh_bsf(procs, tools, hss_bin, db)
    else:
        bsf = bsfenv.Bsf(procs, tools, name="bsf-subdb", db=db, extra={
            "log.level": "info", "ub.retry_after": RETRY_AFTER + "s"}).start()
    rc, out = ue(tools, bsf, state)
    checks.check(label + "a bootstrap before the disk is full", rc == 0, str(out))
    left = tmpfs.fill()
    checks.check(label + "the tmpfs is full", left == 0, f"{left} blocks left")
    ok, refused, other = bootstraps_while_full(tools, bsf, state)
    print(f"{label}while full: {len(ok)} bootstraps answered 200, {len(refused)} 503, "
          f"{len(other)} other")
    cause = "hss_unavailable" if hss_bin else "store_unwritable"
    check_refusals(checks, label, refused,
                   None if hss_bin else
                   bsf.metrics().get(f'gba_bsf_failures_total{{cause="{cause}"}}', 0))
    checks.check(label + "no vector without a durable SQN: no 200 while full", not ok,
                 str(ok[:2]))
    checks.check(label + "the 503 comes before any challenge",
                 all(r.get("stage") == "challenge" for r in refused), str(refused[:2]))
    tmpfs.free()
    after = until_200(tools, bsf, state)
    checks.check(label + "space back: bootstraps succeed again", after is not None)
    runs = [after] + [ue(tools, bsf, state)[1] for _ in range(3)]
    checks.check(label + "no SQN handed out twice: the card takes every vector, no resync",
                 all(r and r.get("status") == 200 and r.get("resyncs") == 0 for r in runs),
                 str(runs))
    if not hss_bin:
        log = bsf.log()
        checks.check(label + "the outage is logged once",
                     log.count("warn: subscriber database cannot write (") == 1, log[-2000:])
    bsf.check_clean_stop(checks)
    if hss_bin:
        procs.stop("hss")   # its exit status is test_bsf_zh's to check (freeDiameter's leak under ASan)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)


def main():
    tools = bsfenv.Tools()
    checks = gbatest.Checks()
    with gbatest.Processes() as procs:
        tmpfs = Tmpfs(os.path.join(procs.dir, "small"))
        if not tmpfs.mounted:
            print(f"SKIP: cannot mount a tmpfs ({tmpfs.error}); this test needs root")
            sys.exit(77)
        try:
            session_store_round(checks, tools, procs, tmpfs, 20)
            session_store_round(checks, tools, procs, tmpfs, 0)
            subscriber_db_round(checks, tools, procs, tmpfs)
            if len(sys.argv) > 4 and sys.argv[4]:
                subscriber_db_round(checks, tools, procs, tmpfs, sys.argv[4])
            else:
                print("gba-hss-sim not built: the Zh round is left out")
        finally:
            for name in list(procs.procs):
                procs.stop(name)
            tmpfs.close()
    checks.finish()


if __name__ == "__main__":
    main()
