#!/usr/bin/env python3
"""The project's C rules that clang-format cannot enforce (`make lint`).

Modelled on curl's scripts/checksrc.pl (curl/curl, scripts/checksrc.pl): the
same idea of a per-line scanner over the C files, its banned-function check
(%banfunc and the BANNEDFUNC scan, which skips `->name(` and `.name(`), its
TABS / TRAILINGSPACE / CPPCOMMENTS / INCLUDEDUP / OPENCOMMENT checks, and its
output shape (file:line, a rule name, a message; exit non-zero when anything
was found). Layout (indent, braces, spaces, line length) is clang-format's job
here (.clang-format), so curl's layout warnings are not ported. Added for this
project: the include and folder rules of docs/architecture.md, its ownership
naming rule (X_free / X_release / X_clear), no /proc/self/exe, header guards.

There is no in-file way to silence a rule (curl's !checksrc! comments): a rule
that does not fit a line is fixed in the code, or the exception is listed in
this file, with its reason, where a reviewer sees it.

Usage: tests/lint/checksrc.py [--top DIR] [FILE...]
  (no FILE: the project's C files; --top: the tree the files' paths are taken
  relative to and their includes looked up in, by default this script's tree)
Prints `file:line: RULE: message` per violation; exit 1 if any, 0 if none.
"""
import glob
import os
import re
import sys

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# The files `make lint` checks (the same set as clang-format's C_STYLE_SRC).
DEFAULT_GLOBS = [
    "common/*/*.[ch]", "cmds/*.c", "tests/unit/*.c", "tests/unit/support/*.[ch]",
    "tests/fuzz/*.[ch]", "tests/bench/*.c",
]

# A header named without a folder is one beside the including file, or in the
# folder the Makefile adds with -I for that directory.
LOCAL_INCLUDE_DIRS = {"tests/unit": ["tests/unit/support"]}

# Banned calls, each with what to use instead. From curl's %banfunc, the ones
# that are unsafe or have a better form here; what this code uses on purpose
# (malloc, snprintf, strtol, strtok_r, sscanf with widths, ...) is not banned.
BANNED = {
    "sprintf": "snprintf (or buf_printf from core/buf.h)",
    "vsprintf": "vsnprintf",
    "strcpy": "snprintf, or memcpy with the length checked",
    "strcat": "buf_append / buf_printf (core/buf.h), or snprintf",
    "strncpy": "snprintf (strncpy may leave the string unterminated)",
    "strncat": "buf_append / buf_printf (core/buf.h), or snprintf",
    "gets": "fgets or getline",
    "atoi": "strtol with an end pointer and errno checked",
    "atol": "strtol with an end pointer and errno checked",
    "atoll": "strtoll with an end pointer and errno checked",
    "atof": "strtod with an end pointer and errno checked",
    "strtok": "strtok_r",
    "tmpnam": "mkstemp or mkdtemp",
    "tempnam": "mkstemp or mkdtemp",
    "mktemp": "mkstemp or mkdtemp",
    "ctime": "gmtime_r and strftime",
    "asctime": "gmtime_r and strftime",
    "gmtime": "gmtime_r",
    "localtime": "localtime_r",
    "system": "fork and execv without a shell (lambda/step_exec.h)",
    "popen": "fork and execv without a shell (lambda/step_exec.h)",
    "alloca": "malloc, or a bounded array",
    "rand": "getrandom",
    "srand": "getrandom",
}

# <curl/curl.h> belongs to core/http.c, the one HTTP transport (docs/architecture.md).
CURL_ALLOWED = {
    "common/core/http.c",
    # measures libcurl's own floor next to our client (tests/bench/bench_rds.sh)
    "tests/bench/floor.c",
}
# Files waiting for a branch to move them off libcurl (empty since branch `engine`
# landed: every AWS call goes through core/http.h).
CURL_PENDING = set()

# Which folders of common/ a folder's files may include (docs/architecture.md:
# app, rds, dblab, lambda -> aws, config -> core). rds, dblab and app are peers
# (a wait line shows a clone's poll state; PITR writes the run document); lambda
# sits above them (it runs the commands' steps).
TIER = {"core": 0, "config": 1, "aws": 2, "rds": 3, "dblab": 3, "app": 3, "lambda": 4}
PEERS_TIER = 3  # rds, dblab, app


def may_include(folder, target):
    """A folder includes its own headers, any lower tier's, and at PEERS_TIER its peers'."""
    return folder == target or TIER[target] < TIER[folder] or \
        TIER[target] == TIER[folder] == PEERS_TIER
# Includes against that direction that exist today, each with its reason. A new
# one fails; removing one here once the code no longer needs it keeps it gone.
LAYER_EXCEPTIONS = {
    # the AWS config file's services section gives the RDS endpoint
    ("common/config/config.c", "aws/aws_ini.h"),
    # clone.pipeline is checked by the clone naming rule
    ("common/config/config.c", "rds/clone.h"),
}

# Known exceptions to the ownership rule, (file, function): none today.
OWNERSHIP_EXCEPTIONS = set()

# An exception above that no longer matches anything is reported (STALEEXCEPTION,
# when the whole tree is checked), so that these lists only shrink with the code.

# Exit codes are chosen at a command's edge only (docs/architecture.md, "Errors";
# curl keeps CURLcode inside and picks exit codes in the tool): below it a failure
# is an ERR_* kind. DRR_EXIT_* may appear only in the table and where a PROCESS's
# exit status is read (a Lambda step's child).
EXIT_CODE_FILES = {
    "common/core/exitcodes.c",
    "common/core/exitcodes.h",
    "common/lambda/step_exec.c",  # a child's status: 128 + its signal
    "common/lambda/lambda_step.c",  # names a step command's exit code
}
# Where a kind becomes a process's exit code (err_exit_code, the one table).
EXIT_CODE_EDGE = EXIT_CODE_FILES | {
    "common/app/app.c",  # app_finish: every command's ending
    "common/lambda/lambda_entry.c",  # the Lambda error type "drr.<exit name>"
    "cmds/lambda-bootstrap.c",  # the runtime's own exit
    "cmds/rds-clone-gc.c",  # each failed clone's exitCode in its document
    "common/core/buf.c",  # out of memory: the process ends there
    "common/app/rundoc.c",  # out of memory: the process ends there
}
# The exit codes of docs/exit-codes.md that are no small number.
EXIT_NUMBERS = r"(?:6[45]|70|75|78|8[0-8]|99|1[2-9][0-9])"

RULES = {
    "BANNEDFUNC": "a banned function is called",
    "CURLINCLUDE": "<curl/...> outside core/http.c",
    "PROCSELFEXE": "/proc/self/exe (Linux-only, and not what a relocated program wants)",
    "INCLUDEPATH": 'an include not by folder ("core/err.h"), or one that names no file',
    "INCLUDELAYER": "an include against the folders' dependency direction",
    "INCLUDEDUP": "the same file included twice",
    "OWNERSHIP": "X_free frees the object, X_release only what it holds, X_clear owns nothing",
    "HEADERGUARD": "a header without its #ifndef DRR_..._H guard",
    "EXITCODE": "an exit code below the command's edge (use an ERR_* kind; err_exit_code "
                "picks the code)",
    "CPPCOMMENTS": "a // comment (the code uses /* */ only)",
    "OPENCOMMENT": "a /* comment not closed at the end of the file",
    "TABS": "a tab character",
    "TRAILINGSPACE": "white space at the end of a line",
    "CRLF": "a carriage return (the files use LF line ends)",
    "EOFNEWLINE": "the file does not end with exactly one newline",
    "STALEEXCEPTION": "an exception listed in this checker that nothing needs any more",
}


class Source:
    """A C file's text in three views of the same length and line breaks:
    raw; `nocomment` (comments blanked, strings kept); `code` (comments and the
    insides of string and character literals blanked)."""

    def __init__(self, text):
        self.raw = text
        nocomment, code = [], []
        self.cpp_comments = []  # offsets of // comments
        self.open_comment = False
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c == "/" and text.startswith("/*", i):
                end = text.find("*/", i + 2)
                if end < 0:
                    self.open_comment = True
                    end = n
                else:
                    end += 2
                blank = re.sub(r"[^\n]", " ", text[i:end])
                nocomment.append(blank)
                code.append(blank)
                i = end
            elif c == "/" and text.startswith("//", i):
                self.cpp_comments.append(i)
                end = text.find("\n", i)
                end = n if end < 0 else end
                blank = " " * (end - i)
                nocomment.append(blank)
                code.append(blank)
                i = end
            elif c in "\"'":
                j = i + 1
                while j < n and text[j] != c and text[j] != "\n":
                    j += 2 if text[j] == "\\" else 1
                j = min(j + 1, n)
                nocomment.append(text[i:j])
                code.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + text[j - 1])
                i = j
            else:
                # copy a run of ordinary characters at once (speed)
                m = re.compile(r"[^/\"']+").match(text, i)
                j = m.end() if m else i + 1
                nocomment.append(text[i:j])
                code.append(text[i:j])
                i = j
        self.nocomment = "".join(nocomment)
        self.code = "".join(code)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(self, offset):
        lo, hi = 0, len(self._line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1


class Checker:
    def __init__(self, top):
        self.top = top
        self.found = []
        self.used = set()  # the exceptions that matched something

    def check_stale_exceptions(self):
        """Exceptions that matched nothing (meaningful over the whole tree only)."""
        me = os.path.relpath(os.path.abspath(__file__), self.top)
        lists = [("curl", e, "CURL_PENDING") for e in CURL_PENDING] + \
            [("ownership", e, "OWNERSHIP_EXCEPTIONS") for e in OWNERSHIP_EXCEPTIONS] + \
            [("layer", e, "LAYER_EXCEPTIONS") for e in LAYER_EXCEPTIONS]
        for kind, entry, name in sorted(lists, key=str):
            if (kind, entry) not in self.used:
                self.report(me, 1, "STALEEXCEPTION",
                            "%s lists %s, which no longer needs it: remove it" % (name, entry))

    def report(self, path, line, rule, msg):
        self.found.append((path, line, rule, msg))

    def check_file(self, path):
        rel = os.path.relpath(os.path.abspath(path), self.top)
        with open(path, "rb") as f:
            data = f.read()
        text = data.decode("utf-8", errors="replace")
        self.check_whitespace(rel, text)
        src = Source(text.replace("\r", ""))
        for off in src.cpp_comments:
            self.report(rel, src.line_of(off), "CPPCOMMENTS", "// comment: use /* */")
        if src.open_comment:
            self.report(rel, 1, "OPENCOMMENT", "a /* comment is still open at the end")
        self.check_banned(rel, src)
        self.check_proc_self(rel, src)
        self.check_includes(rel, src)
        self.check_ownership(rel, src)
        self.check_exit_code_include(rel, src)
        if rel.startswith(("common/", "cmds/")):
            self.check_exit_codes(rel, src)
        if rel.endswith(".h"):
            self.check_guard(rel, src)

    # -- whitespace (curl: TABS, TRAILINGSPACE) ---------------------------------
    def check_whitespace(self, rel, text):
        if not text.endswith("\n") and text:
            self.report(rel, text.count("\n") + 1, "EOFNEWLINE", "no newline at the end")
        elif text.endswith("\n\n"):
            self.report(rel, text.count("\n"), "EOFNEWLINE", "blank line(s) at the end")
        for no, line in enumerate(text.split("\n"), 1):
            if "\r" in line:
                self.report(rel, no, "CRLF", "carriage return")
                line = line.replace("\r", "")
            if "\t" in line:
                self.report(rel, no, "TABS", "tab character: indent with spaces")
            if line != line.rstrip(" \t\f\v"):
                self.report(rel, no, "TRAILINGSPACE", "white space at the end of the line")

    # -- banned calls (curl: BANNEDFUNC) ----------------------------------------
    BANNED_RE = re.compile(r"(->|\.|\b)(%s)\s*\(" % "|".join(sorted(BANNED)))

    def check_banned(self, rel, src):
        for m in self.BANNED_RE.finditer(src.code):
            if m.group(1) in ("->", "."):
                continue  # a member called like a function (curl skips these too)
            # a declaration or definition of our own function of that name is no call
            before = src.code[max(0, m.start() - 40):m.start()]
            if re.search(r"\b(int|void|char|long|double|static)\s*\**\s*$", before):
                continue
            self.report(rel, src.line_of(m.start()), "BANNEDFUNC",
                        "%s() is banned: use %s" % (m.group(2), BANNED[m.group(2)]))

    def check_proc_self(self, rel, src):
        for m in re.finditer(r"/proc/self/exe", src.nocomment):
            self.report(rel, src.line_of(m.start()), "PROCSELFEXE",
                        "/proc/self/exe is Linux-only: take the path from argv[0], a flag or "
                        "the environment")

    # -- includes ---------------------------------------------------------------
    INCLUDE_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]*)[>"]', re.M)

    def check_includes(self, rel, src):
        seen = {}
        folder = rel.split("/")[1] if rel.startswith("common/") and rel.count("/") == 2 else None
        for m in self.INCLUDE_RE.finditer(src.nocomment):
            line = src.line_of(m.start())
            kind, name = m.group(1), m.group(2)
            key = kind + name
            if key in seen:
                self.report(rel, line, "INCLUDEDUP",
                            "%s included again (first on line %d)" % (name, seen[key]))
            seen.setdefault(key, line)
            if kind == "<":
                if name.startswith("curl/") and rel in CURL_PENDING:
                    self.used.add(("curl", rel))
                elif name.startswith("curl/") and rel not in CURL_ALLOWED:
                    self.report(rel, line, "CURLINCLUDE",
                                "<%s> only in common/core/http.c: use core/http.h" % name)
                continue
            if "../" in name or name.startswith("./"):
                self.report(rel, line, "INCLUDEPATH",
                            '"%s": include by folder ("core/err.h"), never by a relative path'
                            % name)
                continue
            parts = name.split("/")
            if len(parts) == 1:
                dirs = [os.path.dirname(rel)] + LOCAL_INCLUDE_DIRS.get(os.path.dirname(rel), [])
                if folder or not any(os.path.isfile(os.path.join(self.top, d, name))
                                     for d in dirs):
                    self.report(rel, line, "INCLUDEPATH",
                                '"%s": a common/ header is included by its folder '
                                '("core/err.h"); a bare name only for a header beside the file'
                                % name)
                continue
            if len(parts) != 2 or parts[0] not in TIER or \
                    not os.path.isfile(os.path.join(self.top, "common", name)):
                self.report(rel, line, "INCLUDEPATH",
                            '"%s" is no common/FOLDER/NAME.h header' % name)
                continue
            if (rel, name) in LAYER_EXCEPTIONS:
                self.used.add(("layer", (rel, name)))
            elif folder in TIER and not may_include(folder, parts[0]):
                self.report(rel, line, "INCLUDELAYER",
                                '%s/ may not include "%s": dependencies point from '
                                'app, rds, dblab, lambda to aws, config, core '
                                '(docs/architecture.md)' % (folder, name))

    # -- ownership naming (docs/architecture.md) ----------------------------------
    DEF_RE = re.compile(
        r"^(?:static\s+)?(?:inline\s+)?void\s+(\w+_(free|release|clear))\s*\(([^()]*)\)\s*\{",
        re.M)
    # a call whose first argument is a bare name, maybe cast: free(p), x_free((T *)p),
    # s->free(s)
    CALL_RE = re.compile(
        r"([A-Za-z_]\w*(?:\s*(?:->|\.)\s*[A-Za-z_]\w*)*)\s*\(\s*(?:\([\w\s\*]+\)\s*)?"
        r"([A-Za-z_]\w*)\s*[,)]")

    @staticmethod
    def body_at(code, brace):
        depth = 0
        for i in range(brace, len(code)):
            if code[i] == "{":
                depth += 1
            elif code[i] == "}":
                depth -= 1
                if depth == 0:
                    return code[brace:i + 1]
        return code[brace:]

    @classmethod
    def frees_of(cls, body, param):
        """The calls in body that free `param` (or a pointer copied from it)."""
        names = {param}
        for m in re.finditer(r"\b(\w+)\s*=\s*(?:\([\w\s\*]+\)\s*)?(\w+)\s*;", body):
            if m.group(2) in names:
                names.add(m.group(1))
        out = []
        for m in cls.CALL_RE.finditer(body):
            callee = re.split(r"->|\.", m.group(1))[-1].strip()
            if m.group(2) in names and (callee == "free" or callee.endswith("_free")):
                out.append(m.group(1).replace(" ", ""))
        return out

    def check_ownership(self, rel, src):
        for m in self.DEF_RE.finditer(src.code):
            name, kind, params = m.group(1), m.group(2), m.group(3)
            if (rel, name) in OWNERSHIP_EXCEPTIONS:
                self.used.add(("ownership", (rel, name)))
                continue
            first = params.split(",")[0].strip()
            pm = re.search(r"\*\s*(\w+)$", first)
            line = src.line_of(m.start())
            body = self.body_at(src.code, m.end() - 1)
            if kind == "clear":
                if re.search(r"\bfree\s*\(|_free\s*\(|_release\s*\(", body):
                    self.report(rel, line, "OWNERSHIP",
                                "%s frees memory: X_clear owns nothing (name it X_release or "
                                "X_free)" % name)
                continue
            if not pm:
                continue  # no pointer parameter: nothing to say
            param = pm.group(1)
            frees = self.frees_of(body, param)
            if kind == "release" and frees:
                self.report(rel, line, "OWNERSHIP",
                            "%s frees %s itself (%s): X_release frees only what it holds; "
                            "name it X_free" % (name, param, frees[0]))
            if kind == "free" and not frees:
                self.report(rel, line, "OWNERSHIP",
                            "%s does not free %s itself: X_free frees the object; name it "
                            "X_release if it frees only what %s holds" % (name, param, param))

    # -- exit codes only at the edge (docs/architecture.md, "Errors") -------------
    EXIT_RES = [
        (re.compile(r"\bDRR_EXIT_\w+"), "an exit code: return an ERR_* kind"),
        (re.compile(r"\breturn\s+%s\s*;" % EXIT_NUMBERS), "a literal exit code: return an "
         "ERR_* kind"),
        # (127 is exec's "could not run it" in a forked child, no exit code of ours)
        (re.compile(r"\b_?exit\s*\(\s*(?:ERR_\w+|6[45]|70|75|78|8[0-8]|99)\s*\)"),
         "exit() takes an exit code: exit(err_exit_code(kind, 0))"),
        (re.compile(r"\b(?:err_set|err_reclassify|err_exit_code)\s*\([^,()]+,\s*[1-9]"),
         "a number where an ERR_* kind belongs"),
    ]

    def check_exit_code_include(self, rel, src):
        """The table's include belongs where the table is used: a file that
        includes it and uses none of it only looks as if it picked exit codes (the
        kinds are in core/err.h; the errkind conversion left 24 such includes)."""
        inc = re.search(r'^[ \t]*#[ \t]*include[ \t]*"core/exitcodes\.h"', src.nocomment, re.M)
        if inc and not re.search(r"\b(?:DRR_EXIT_\w+|err_exit_code|drr_exit_\w+)", src.code):
            self.report(rel, src.line_of(inc.start()), "EXITCODE",
                        "core/exitcodes.h included but none of it used: the kinds are in "
                        "core/err.h")

    def check_exit_codes(self, rel, src):
        if rel not in EXIT_CODE_FILES:
            for pattern, msg in self.EXIT_RES:
                for m in pattern.finditer(src.code):
                    self.report(rel, src.line_of(m.start()), "EXITCODE", msg)
        if rel not in EXIT_CODE_EDGE:
            for m in re.finditer(r"\berr_exit_code\s*\(", src.code):
                self.report(rel, src.line_of(m.start()), "EXITCODE",
                            "err_exit_code below the edge: return the kind, the command's "
                            "ending (app_finish) picks the exit code")

    # -- header guards ------------------------------------------------------------
    def check_guard(self, rel, src):
        base = re.sub(r"\W", "_", os.path.basename(rel)[:-2]).upper()
        directives = [(src.line_of(m.start()), m.group(1), m.group(2))
                      for m in re.finditer(r"^[ \t]*#[ \t]*(\w+)[ \t]*(\w*)", src.code, re.M)]
        ok = len(directives) >= 3 and directives[0][1] == "ifndef" and \
            directives[1][1] == "define" and directives[0][2] == directives[1][2] and \
            directives[-1][1] == "endif" and \
            re.match(r"^DRR_(\w+_)?%s_H$" % re.escape(base), directives[0][2]) is not None
        if ok:
            # nothing but comments and blank lines outside the guard
            lines = src.code.split("\n")
            before = "\n".join(lines[:directives[0][0] - 1])
            after = "\n".join(lines[directives[-1][0]:])
            ok = not before.strip() and not after.strip()
        if not ok:
            self.report(rel, directives[0][0] if directives else 1, "HEADERGUARD",
                        "the header must be wrapped in #ifndef DRR_%s_H / #define DRR_%s_H / "
                        "#endif" % (base, base))


def default_files(top):
    files = []
    for pattern in DEFAULT_GLOBS:
        files.extend(sorted(glob.glob(os.path.join(top, pattern))))
    return files


def main(argv):
    args = argv[1:]
    if args and args[0] in ("-h", "-help", "--help"):
        print(__doc__.strip())
        print("\nrules:")
        for rule, text in RULES.items():
            print("  %-14s %s" % (rule, text))
        return 0
    top = TOP
    if len(args) >= 2 and args[0] == "--top":
        top, args = os.path.abspath(args[1]), args[2:]
    checker = Checker(top)
    for path in args or default_files(top):
        try:
            checker.check_file(path)
        except OSError as exc:
            print("checksrc: %s: %s" % (path, exc.strerror), file=sys.stderr)
            return 2
    if not args:
        checker.check_stale_exceptions()
    for path, line, rule, msg in sorted(checker.found, key=lambda f: (f[0], f[1])):
        print("%s:%d: %s: %s" % (path, line, rule, msg))
    if checker.found:
        print("checksrc: %d violation(s)" % len(checker.found), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
