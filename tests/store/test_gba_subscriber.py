"""test_gba_subscriber.py - the gba-subscriber command, end to end, on a
temporary database: every command, the exit codes, bad input of every
kind, and that no output ever carries K, OP or OPc.

    test_gba_subscriber.py GBA_SUBSCRIBER
"""
import os
import stat
import sys

import gbatest

# TS 35.208 test set 1: a published key, never a real subscriber's.
K = "465b5ce8b199b49faa5f0a2ee238a6bc"
OP = "cdc202d5123e20f62b6d676ac72cb318"
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
TUAK_K = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
TUAK_TOP = "a5a4a7a6a1a0a3a2adacafaea9a8abaab5b4b7b6b1b0b3b2bdbcbfbeb9b8bbba"
SECRETS = [K, OP, OPC, TUAK_K, TUAK_TOP]
IMPI = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"

EXIT_DONE, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_EXISTS = 0, 1, 2, 3, 4


class Runner:
    """Runs the command, and remembers everything it printed."""

    def __init__(self, prog, db):
        self.prog, self.db = prog, db
        self.output = []

    def run(self, *args, input=None, db=True):
        argv = [self.prog] + (["--db", self.db] if db else []) + list(args)
        r = gbatest.run(argv, input=input)
        self.output.append(r.stdout + r.stderr)
        return r


def key_text(k=K, opc=None, op=None):
    """A key file's text, for --k-file - (standard input)."""
    lines = [f"k={k}"] if k else []
    lines += [f"opc={opc}"] if opc else []
    lines += [f"op={op}"] if op else []
    return "\n".join(lines) + "\n"


def has_secret(text):
    low = text.lower()
    return any(s in low for s in SECRETS) or any(s.upper() in text for s in SECRETS)


def test_help(c, t):
    r = t.run("--help", db=False)
    c.check("--help exits 0", r.returncode == EXIT_DONE, r.stderr)
    for word in ["add", "list", "show", "remove", "import", "map", "unmap", "maps", "--impi", "--imsi", "--impu",
                 "--k-file", "--amf", "--algo", "--tuak-iterations",
                 "--res-len", "--sqn", "--ind-bits", "--guss-file", "Exit codes"]:
        c.check(f"--help mentions {word}", word in r.stdout)
    for word in ["--k ", "--op ", "--opc "]:
        c.check(f"--help offers no {word.strip()} (keys from a file only)", word not in r.stdout)
    r = t.run("--version", db=False)
    c.check("--version", r.returncode == 0 and r.stdout.startswith("gba-subscriber "))
    r = t.run(db=False)
    c.check("no command: exit 2", r.returncode == EXIT_USAGE, r.stderr)
    r = t.run("frobnicate")
    c.check("unknown command: exit 2", r.returncode == EXIT_USAGE and "frobnicate" in r.stderr)
    r = t.run("list", db=False)
    c.check("no --db: exit 2", r.returncode == EXIT_USAGE and "--db" in r.stderr)
    r = t.run("--bogus", db=False)
    c.check("unknown global option: exit 2", r.returncode == EXIT_USAGE)


def test_missing_db(c, t, tmp):
    path = os.path.join(tmp, "absent.db")
    r = gbatest.run([t.prog, "--db", path, "list"])
    c.check("list on a missing file: exit 1", r.returncode == EXIT_FAILED, r.stderr)
    c.check("list does not create the file", not os.path.exists(path))
    r = gbatest.run([t.prog, "--db", path, "show", IMPI])
    c.check("show on a missing file: exit 1", r.returncode == EXIT_FAILED)
    r = gbatest.run([t.prog, "--db", os.path.join(tmp, "no", "such", "dir.db"), "add",
                     "--impi", IMPI, "--k-file", "-"], input=key_text(opc=OPC))
    c.check("add in a missing directory: exit 1", r.returncode == EXIT_FAILED, r.stderr)


def test_add(c, t, tmp):
    r = t.run("add", "--impi", IMPI, "--imsi", "001010000000001", "--impu",
              "sip:alice@example.org", "--impu", "tel:+15550001", "--k-file", "-",
              "--amf", "8000", "--sqn", "64", input=key_text(opc=OPC))
    c.check("add milenage with OPc", r.returncode == EXIT_DONE and IMPI in r.stdout,
            r.stdout + r.stderr)
    mode = stat.S_IMODE(os.stat(t.db).st_mode)
    c.check("database created 0600", mode == 0o600, oct(mode))
    r = t.run("add", "--impi", IMPI, "--k-file", "-", input=key_text(opc=OPC))
    c.check("add a known IMPI: exit 4", r.returncode == EXIT_EXISTS, r.stderr)
    r = t.run("add", "--impi", "op@example.org", "--k-file", "-", input=key_text(op=OP))
    c.check("add milenage with OP", r.returncode == EXIT_DONE, r.stderr)
    # TUAK, keys from stdin.
    keys = f"# TUAK keys\nk = {TUAK_K}\n\ntop={TUAK_TOP}\n"
    r = t.run("add", "--impi", "tuak@example.org", "--algo", "tuak", "--k-file", "-",
              "--tuak-iterations", "3", "--res-len", "16", input=keys)
    c.check("add tuak with --k-file - (stdin)", r.returncode == EXIT_DONE, r.stderr)
    # Keys from a file, GUSS from a file.
    kf = os.path.join(tmp, "keys")
    with open(kf, "w") as f:
        f.write(f"K={K}\nOPc={OPC}\n")
    guss = os.path.join(tmp, "guss.xml")
    with open(guss, "w") as f:
        f.write('<guss><ussList><uss id="1"/></ussList></guss>')
    r = t.run("add", "--impi", "file@example.org", "--k-file", kf, "--guss-file", guss,
              "--ind-bits", "4")
    c.check("add with --k-file FILE and --guss-file", r.returncode == EXIT_DONE, r.stderr)
    r = t.run("add", "--impi", "mixed@example.org", "--k-file", "-", input=key_text(opc=OPC))
    c.check("add with --k-file -", r.returncode == EXIT_DONE, r.stderr)


def test_show_list(c, t):
    r = t.run("show", IMPI)
    c.check("show: exit 0", r.returncode == EXIT_DONE, r.stderr)
    for want in [f"impi: {IMPI}", "imsi: 001010000000001",
                 "impus: sip:alice@example.org,tel:+15550001", "algorithm: milenage",
                 "amf: 8000", "sqn: 64 (seq 2, ind 0)", "ind_bits: 5", "guss: none"]:
        c.check(f"show prints '{want}'", want in r.stdout, r.stdout)
    r = t.run("show", "file@example.org")
    c.check("show counts the GUSS", "guss: 45 octets" in r.stdout and "ind_bits: 4" in r.stdout,
            r.stdout)
    r = t.run("show", "tuak@example.org")
    c.check("show tuak", "algorithm: tuak" in r.stdout, r.stdout)
    r = t.run("list")
    lines = [l for l in r.stdout.splitlines() if not l.startswith("#")]
    c.check("list: 5 subscribers", r.returncode == EXIT_DONE and len(lines) == 5, r.stdout)
    c.check("list in IMPI order", [l.split("\t")[0] for l in lines] ==
            sorted(l.split("\t")[0] for l in lines), r.stdout)
    c.check("list line has imsi, algo, sqn, impus",
            f"{IMPI}\t001010000000001\tmilenage\t64\tsip:alice@example.org,tel:+15550001"
            in r.stdout, r.stdout)
    r = t.run("show", "nobody@example.org")
    c.check("show unknown: exit 3", r.returncode == EXIT_NOT_FOUND, r.stderr)
    r = t.run("show")
    c.check("show without IMPI: exit 2", r.returncode == EXIT_USAGE)
    r = t.run("show", "x" * 300)
    c.check("show with an oversize IMPI: exit 2", r.returncode == EXIT_USAGE)
    r = t.run("list", "extra")
    c.check("list with an argument: exit 2", r.returncode == EXIT_USAGE)


def test_bad_add(c, t, tmp):
    big = os.path.join(tmp, "big.xml")
    with open(big, "w") as f:
        f.write("<guss>" + "x" * 17000 + "</guss>")
    badkeys = os.path.join(tmp, "badkeys")
    with open(badkeys, "w") as f:
        f.write(f"k={K}\nkey2={OPC}\n")
    twice = os.path.join(tmp, "twice")
    with open(twice, "w") as f:
        f.write(f"k={K}\nk={K}\nopc={OPC}\n")
    base = ["add", "--impi", "bad@example.org"]
    stdin = ["--k-file", "-"]
    good = key_text(opc=OPC)
    cases = [
        ("K not hex", base + stdin, key_text(K[:-1] + "g", OPC)),
        ("K too short", base + stdin, key_text(K[:-2], OPC)),
        ("OPc too long", base + stdin, key_text(opc=OPC + "00")),
        ("both op and opc", base + stdin, key_text(opc=OPC, op=OP)),
        ("no --impi", ["add"] + stdin, good),
        ("no OPc", base + stdin, key_text()),
        ("no K", base + stdin, key_text(None, OPC)),
        ("no key file", base, None),
        ("unknown --algo", base + stdin + ["--algo", "comp128"], good),
        ("bad --amf", base + stdin + ["--amf", "80"], good),
        ("--amf not hex", base + stdin + ["--amf", "zz00"], good),
        ("--sqn too large", base + stdin + ["--sqn", str(2 ** 48)], good),
        ("--sqn negative", base + stdin + ["--sqn", "-1"], good),
        ("--ind-bits 11", base + stdin + ["--ind-bits", "11"], good),
        ("--imsi with letters", base + stdin + ["--imsi", "00101abc000"], good),
        ("--impu with a comma", base + stdin + ["--impu", "sip:a,sip:b"], good),
        ("--impu empty", base + stdin + ["--impu", ""], good),
        ("IMPI with a space", ["add", "--impi", "a b@example.org"] + stdin, good),
        ("IMPI too long", ["add", "--impi", "x" * 256] + stdin, good),
        ("TUAK option on Milenage", base + stdin + ["--tuak-iterations", "2"], good),
        ("TUAK with a 16-octet TOPc", base + ["--algo", "tuak"] + stdin, good),
        ("TUAK RES length 5", base + ["--algo", "tuak", "--res-len", "5"] + stdin,
         key_text(TUAK_K, TUAK_TOP)),
        ("TUAK 0 iterations", base + ["--algo", "tuak", "--tuak-iterations", "0"] + stdin,
         key_text(TUAK_K, TUAK_TOP)),
        ("GUSS too large", base + stdin + ["--guss-file", big], good),
        ("GUSS file missing", base + stdin + ["--guss-file", big + ".no"], good),
        ("key file with an unknown name", base + ["--k-file", badkeys], None),
        ("key file giving K twice", base + ["--k-file", twice], None),
        ("key file missing", base + ["--k-file", os.path.join(tmp, "nokeys")], None),
        ("unknown add option", base + stdin + ["--colour", "blue"], good),
        ("unknown option carrying a key", base + ["--kk=" + K], None),
        ("--k-file without a value", base + ["--k-file"], None),
        ("stray argument", base + stdin + ["extra"], good),
    ]
    for name, argv, text in cases:
        r = t.run(*argv, input=text)
        c.check(f"add, {name}: exit 2 with a message",
                r.returncode == EXIT_USAGE and r.stderr.startswith("gba-subscriber: "),
                f"rc={r.returncode} {r.stderr}")
    test_keys_on_command_line(c, t)
    r = t.run("show", "bad@example.org")
    c.check("no bad subscriber got in", r.returncode == EXIT_NOT_FOUND)


def test_keys_on_command_line(c, t):
    """--k, --op and --opc are gone (keys show in ps and shell history), and
    so are their abbreviations of --k-file: each is refused, exit 2, and the
    message does not repeat the key, whichever way it was written."""
    base = ["add", "--impi", "cmdline@example.org"]
    for argv in (["--k", K, "--opc", OPC], ["--k=" + K, "--opc=" + OPC], ["--op", OP],
                 ["--opc", OPC], ["--k-f", K], ["--k-", K]):
        r = t.run(*base, *argv, input=key_text(opc=OPC))
        c.check(f"add {argv[0].split('=')[0]} KEY: refused (exit 2), the key not echoed",
                r.returncode == EXIT_USAGE and "unknown option" in r.stderr
                and not has_secret(r.stdout + r.stderr), f"rc={r.returncode} {r.stderr}")
    r = t.run("show", "cmdline@example.org")
    c.check("no subscriber added from a key on the command line", r.returncode == EXIT_NOT_FOUND)


def test_remove(c, t):
    r = t.run("remove", "mixed@example.org")
    c.check("remove: exit 0", r.returncode == EXIT_DONE and "removed" in r.stdout, r.stderr)
    r = t.run("show", "mixed@example.org")
    c.check("removed subscriber is gone", r.returncode == EXIT_NOT_FOUND)
    r = t.run("remove", "mixed@example.org")
    c.check("remove unknown: exit 3", r.returncode == EXIT_NOT_FOUND)
    r = t.run("remove")
    c.check("remove without IMPI: exit 2", r.returncode == EXIT_USAGE)


def test_map(c, t, tmp):
    """IMPI -> IMSI mappings for av.source = gsup: map, show, maps, unmap."""
    fresh = Runner(t.prog, os.path.join(tmp, "maps-only.db"))
    r = fresh.run("map", "alice@ims.example.org", "001010000000002")
    c.check("map: a database with no subscribers is created", r.returncode == EXIT_DONE,
            r.stderr)
    r = fresh.run("map", "alice@ims.example.org", "001010000000003")
    c.check("map again: replaces", r.returncode == EXIT_DONE, r.stderr)
    r = fresh.run("show", "alice@ims.example.org")
    c.check("show: a mapped IMPI without a subscriber row",
            r.returncode == EXIT_DONE and "mapped_imsi: 001010000000003" in r.stdout, r.stdout)
    r = fresh.run("map", "bob@ims.example.org", "00101x")
    c.check("map: an IMSI that is not 6 to 15 digits: exit 2", r.returncode == EXIT_USAGE)
    r = fresh.run("map", "bob@ims.example.org")
    c.check("map without an IMSI: exit 2", r.returncode == EXIT_USAGE)
    r = fresh.run("maps")
    c.check("maps: one line per mapping",
            r.returncode == EXIT_DONE and "alice@ims.example.org\t001010000000003" in r.stdout
            and "bob@" not in r.stdout, r.stdout)
    r = fresh.run("unmap", "alice@ims.example.org")
    c.check("unmap: exit 0", r.returncode == EXIT_DONE, r.stderr)
    r = fresh.run("unmap", "alice@ims.example.org")
    c.check("unmap again: exit 3", r.returncode == EXIT_NOT_FOUND)
    r = fresh.run("show", "alice@ims.example.org")
    c.check("show after unmap: exit 3", r.returncode == EXIT_NOT_FOUND)
    r = t.run("maps")
    c.check("maps on a database never mapped: just the header",
            r.returncode == EXIT_DONE and r.stdout.strip() == "# impi\timsi", r.stdout)

    # Public-Identities for av.source = cx: a URI instead of an IMSI.
    r = fresh.run("map", "carol@ims.example.org", "sip:carol@ims.example.org")
    c.check("map IMPI sip:URI: exit 0", r.returncode == EXIT_DONE, r.stderr)
    r = fresh.run("map", "carol@ims.example.org", "001010000000004")
    c.check("map IMPI IMSI next to it: exit 0", r.returncode == EXIT_DONE, r.stderr)
    for bad in ("sip:a b", "http://x", "sip:", "mailto:x@y"):
        r = fresh.run("map", "dave@ims.example.org", bad)
        c.check(f"map: '{bad}' is no Public-Identity: exit 2", r.returncode == EXIT_USAGE,
                r.stderr)
    r = fresh.run("maps")
    c.check("maps: the IMSI, then the Public-Identity under its own header",
            r.returncode == EXIT_DONE and "carol@ims.example.org\t001010000000004" in r.stdout
            and "# impi\tpublic identity (Cx)\ncarol@ims.example.org\tsip:carol@ims.example.org"
            in r.stdout and "dave@" not in r.stdout, r.stdout)
    r = fresh.run("unmap", "carol@ims.example.org")
    c.check("unmap: both go", r.returncode == EXIT_DONE, r.stderr)
    r = fresh.run("maps")
    c.check("maps after unmap: nothing of carol's", "carol@" not in r.stdout, r.stdout)


def count(t):
    r = t.run("list")
    return len([l for l in r.stdout.splitlines() if not l.startswith("#")])


def test_import(c, t, tmp):
    good = os.path.join(tmp, "good.csv")
    with open(good, "w") as f:
        f.write("# impi,imsi,impus,algo,k,op_or_opc,opc_is_op,amf,sqn[,tuak_iterations,res_len]\n"
                f"csv1@example.org,001010000000011,sip:csv1@example.org,milenage,{K},{OPC},0,0000,0\n"
                f"csv2@example.org,,sip:a;sip:b,milenage,{K},{OP},1,8000,32\n"
                f"csv3@example.org,,,tuak,{TUAK_K},{TUAK_TOP},1,0000,0,2,16\n")
    before = count(t)
    r = t.run("import", good)
    c.check("import a good CSV", r.returncode == EXIT_DONE and "imported 3" in r.stdout,
            r.stdout + r.stderr)
    c.check("3 more subscribers", count(t) == before + 3)
    r = t.run("show", "csv2@example.org")
    c.check("IMPUs from ';' to ','", "impus: sip:a,sip:b" in r.stdout, r.stdout)
    bad = os.path.join(tmp, "bad.csv")
    cases = [
        ("bad hex", f"csv9@example.org,,,milenage,{K[:-1]}x,{OPC},0,0000,0", EXIT_USAGE),
        ("wrong length", f"csv9@example.org,,,milenage,{K}00,{OPC},0,0000,0", EXIT_USAGE),
        ("unknown algo", f"csv9@example.org,,,xor,{K},{OPC},0,0000,0", EXIT_USAGE),
        ("duplicate IMPI", f"csv1@example.org,,,milenage,{K},{OPC},0,0000,0", EXIT_EXISTS),
        ("too few fields", "csv9@example.org,,,milenage", EXIT_USAGE),
    ]
    for name, line, code in cases:
        with open(bad, "w") as f:
            f.write("# header\n"
                    f"ok1@example.org,,,milenage,{K},{OPC},0,0000,0\n"
                    f"{line}\n"
                    f"ok2@example.org,,,milenage,{K},{OPC},0,0000,0\n")
        n = count(t)
        r = t.run("import", bad)
        c.check(f"import, {name}: exit {code}, line 3 named, nothing imported",
                r.returncode == code and ":3:" in r.stderr and "nothing imported" in r.stderr
                and count(t) == n, f"rc={r.returncode} {r.stderr}")
    stdin_csv = f"stdin1@example.org,,,milenage,{K},{OPC},0,0000,0\n"
    r = t.run("import", "-", input=stdin_csv)
    c.check("import from stdin", r.returncode == EXIT_DONE and "imported 1" in r.stdout,
            r.stderr)
    r = t.run("import", os.path.join(tmp, "absent.csv"))
    c.check("import a missing file: exit 2", r.returncode == EXIT_USAGE, r.stderr)
    r = t.run("import")
    c.check("import without a file: exit 2", r.returncode == EXIT_USAGE)


def test_op_not_stored(c, t):
    """OP is turned into OPc: the raw OP never reaches the file."""
    op = bytes.fromhex(OP)
    blob = b""
    for suffix in ["", "-wal"]:
        try:
            with open(t.db + suffix, "rb") as f:
                blob += f.read()
        except FileNotFoundError:
            pass
    c.check("database file read", len(blob) > 0)
    c.check("OP is not in the database file", op not in blob)
    c.check("TOP is not in the database file", bytes.fromhex(TUAK_TOP) not in blob)


def main():
    if len(sys.argv) != 2:
        print("usage: test_gba_subscriber.py GBA_SUBSCRIBER", file=sys.stderr)
        sys.exit(2)
    c = gbatest.Checks()
    with gbatest.Processes() as procs:
        t = Runner(sys.argv[1], os.path.join(procs.dir, "subscribers.db"))
        test_help(c, t)
        test_missing_db(c, t, procs.dir)
        test_add(c, t, procs.dir)
        test_show_list(c, t)
        test_bad_add(c, t, procs.dir)
        test_remove(c, t)
        test_import(c, t, procs.dir)
        test_op_not_stored(c, t)
        test_map(c, t, procs.dir)
        leaks = [o for o in t.output if has_secret(o)]
        c.check(f"no output of {len(t.output)} runs shows K, OP or OPc", not leaks,
                leaks[0] if leaks else "")
    c.finish()


if __name__ == "__main__":
    main()
