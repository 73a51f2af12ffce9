#!/usr/bin/env python3
"""Tests of tests/lint/checksrc.py: for every rule a bad snippet that must be
caught (and a near miss that must not), written into a small tree laid out like
this one; then the real tree, which must pass, in under 2 seconds."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKSRC = os.path.join(HERE, "checksrc.py")
GUARD = "#ifndef DRR_%s_H\n#define DRR_%s_H\n\nint f(void);\n\n#endif\n"
LINE_RE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<rule>[A-Z]+): (?P<msg>.+)$")


class Tree:
    """A throw-away tree with the headers the snippets include."""

    def __init__(self):
        self.top = tempfile.mkdtemp(prefix="checksrc.")
        for rel in ("common/core/err.h", "common/core/http.h", "common/config/config.h",
                    "common/aws/aws_client.h", "common/rds/rds.h", "common/app/rundoc.h",
                    "common/lambda/step_exec.h", "tests/unit/support/check_main.h"):
            base = os.path.basename(rel)[:-2].upper()
            self.write(rel, GUARD % (base, base))

    def write(self, rel, text, binary=False):
        path = os.path.join(self.top, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(text if binary else text.encode())
        return path

    def check(self, rel, text, binary=False):
        """Runs the checker on one file; returns its findings as (line, rule, msg)."""
        path = self.write(rel, text, binary)
        p = subprocess.run([sys.executable, CHECKSRC, "--top", self.top, path],
                           capture_output=True, text=True, timeout=30)
        found = []
        for line in p.stdout.splitlines():
            m = LINE_RE.match(line)
            assert m, "not file:line: RULE: message: %r" % line
            assert m.group("file") == rel, line
            found.append((int(m.group("line")), m.group("rule"), m.group("msg")))
        assert p.returncode == (1 if found else 0), (p.returncode, p.stdout, p.stderr)
        return found

    def remove(self):
        shutil.rmtree(self.top, ignore_errors=True)


class Rules(unittest.TestCase):
    def setUp(self):
        self.tree = Tree()

    def tearDown(self):
        self.tree.remove()

    def rules(self, rel, text, binary=False):
        return [(line, rule) for line, rule, _ in self.tree.check(rel, text, binary)]

    def test_a_clean_file(self):
        self.assertEqual(self.rules("common/core/a.c",
                                    '#include "core/err.h"\n\n/* ok */\nint f(void);\n'), [])

    def test_banned_calls_name_their_replacement(self):
        src = ('#include <stdio.h>\n\nvoid f(char *b, const char *s)\n{\n'
               '    sprintf(b, "%s", s);\n'
               '    strcpy(b, s);\n'
               '    int n = atoi(s);\n'
               '    (void)strtok(b, ",");\n'
               '    system(s);\n'
               '}\n')
        found = self.tree.check("common/core/a.c", src)
        self.assertEqual([(line, rule) for line, rule, _ in found],
                         [(5, "BANNEDFUNC"), (6, "BANNEDFUNC"), (7, "BANNEDFUNC"),
                          (8, "BANNEDFUNC"), (9, "BANNEDFUNC")])
        self.assertIn("sprintf() is banned: use snprintf", found[0][2])
        self.assertIn("strtol", found[2][2])
        self.assertIn("strtok_r", found[3][2])

    def test_banned_names_that_are_no_calls(self):
        src = ('void f(struct s *p, char *save)\n{\n'
               '    p->sprintf(p);      /* a member */\n'
               '    p->ops.strcpy(p);\n'
               '    g("sprintf(x)");     /* a string */\n'
               '    /* strcat(a, b) in a comment */\n'
               '    strtok_r(p, ",", &save);\n'
               '    my_atoi(p);\n'
               '}\n')
        self.assertEqual(self.rules("common/core/a.c", src), [])

    def test_curl_only_in_core_http(self):
        self.assertEqual(self.rules("common/rds/x.c", "#include <curl/curl.h>\n"),
                         [(1, "CURLINCLUDE")])
        self.assertEqual(self.rules("cmds/x.c", "#include <curl/easy.h>\n"),
                         [(1, "CURLINCLUDE")])
        self.assertEqual(self.rules("common/core/http.c", "#include <curl/curl.h>\n"), [])

    def test_proc_self_exe(self):
        src = ('void f(char *b)\n{\n    /* not /proc/self/exe: Linux only */\n'
               '    readlink("/proc/self/exe", b, 10);\n}\n')
        self.assertEqual(self.rules("cmds/x.c", src), [(4, "PROCSELFEXE")])

    def test_includes_by_folder(self):
        src = ('#include "../core/err.h"\n'
               '#include "err.h"\n'
               '#include "nofolder/x.h"\n'
               '#include "core/missing.h"\n'
               '#include "core/err.h"\n')
        self.assertEqual(self.rules("common/config/x.c", src),
                         [(1, "INCLUDEPATH"), (2, "INCLUDEPATH"), (3, "INCLUDEPATH"),
                          (4, "INCLUDEPATH")])
        # a bare name: a header beside the file, or the unit tests' support folder
        self.tree.write("tests/fuzz/fuzz.h", GUARD % ("FUZZ", "FUZZ"))
        self.assertEqual(self.rules("tests/fuzz/fuzz_x.c", '#include "fuzz.h"\n'), [])
        self.assertEqual(self.rules("tests/unit/test_x.c",
                                    '#include "check_main.h"\n#include "core/err.h"\n'), [])
        self.assertEqual(self.rules("tests/unit/test_x.c", '#include "fuzz.h"\n'),
                         [(1, "INCLUDEPATH")])

    def test_folder_direction(self):
        self.assertEqual(self.rules("common/core/a.c", '#include "config/config.h"\n'),
                         [(1, "INCLUDELAYER")])
        self.assertEqual(self.rules("common/core/a.c", '#include "lambda/step_exec.h"\n'),
                         [(1, "INCLUDELAYER")])
        self.assertEqual(self.rules("common/config/a.c", '#include "rds/rds.h"\n'),
                         [(1, "INCLUDELAYER")])
        self.assertEqual(self.rules("common/aws/a.c", '#include "app/rundoc.h"\n'),
                         [(1, "INCLUDELAYER")])
        self.assertEqual(self.rules("common/rds/a.c", '#include "lambda/step_exec.h"\n'),
                         [(1, "INCLUDELAYER")])
        ok = ('#include "core/err.h"\n#include "config/config.h"\n#include "aws/aws_client.h"\n'
              '#include "app/rundoc.h"\n')
        self.assertEqual(self.rules("common/rds/a.c", ok), [])
        self.assertEqual(self.rules("common/lambda/a.c", ok + '#include "rds/rds.h"\n'), [])
        self.assertEqual(self.rules("cmds/x.c", ok + '#include "lambda/step_exec.h"\n'), [])

    def test_included_twice(self):
        self.assertEqual(self.rules("cmds/x.c", '#include <stdio.h>\n#include "core/err.h"\n'
                                                '#include <stdio.h>\n'),
                         [(3, "INCLUDEDUP")])

    def test_ownership_naming(self):
        src = ('void a_release(struct a *p)\n{\n    free(p->x);\n    free(p);\n}\n'
               'void b_free(struct b *p)\n{\n    free(p->x);\n    memset(p, 0, sizeof *p);\n}\n'
               'static void c_release(void *p)\n{\n    d_free(p);\n}\n'
               'void e_clear(struct e *p)\n{\n    free(p->x);\n}\n')
        found = self.tree.check("common/core/a.c", src)
        self.assertEqual([(line, rule) for line, rule, _ in found],
                         [(1, "OWNERSHIP"), (6, "OWNERSHIP"), (11, "OWNERSHIP"),
                          (15, "OWNERSHIP")])
        self.assertIn("name it X_free", found[0][2])
        self.assertIn("name it X_release", found[1][2])

    def test_ownership_that_follows_the_rule(self):
        src = ('void a_release(struct a *p)\n{\n    free(p->x);\n    b_free(p->b);\n'
               '    memset(p, 0, sizeof *p);\n}\n'
               'void b_free(struct b *p)\n{\n    if (!p)\n        return;\n    a_release(&p->a);\n'
               '    free(p);\n}\n'
               'static void c_free(struct src *s)\n{\n    struct c *c = (struct c *)s;\n'
               '    free(c->u);\n    free(c);\n}\n'
               'void d_free(struct d *s)\n{\n    s->free(s);\n}\n'
               'void e_free(struct e *p)\n{\n    e_release(p);\n    free(p);\n}\n'
               'void f_clear(struct f *p)\n{\n    memset(p, 0, sizeof *p);\n}\n')
        self.assertEqual(self.rules("common/core/a.c", src), [])

    def test_header_guards(self):
        self.assertEqual(self.rules("common/core/good.h", GUARD % ("GOOD", "GOOD")), [])
        self.assertEqual(self.rules("tests/unit/support/t.h",
                                    GUARD % ("TEST_T", "TEST_T")), [])
        self.assertEqual(self.rules("common/core/none.h", "int f(void);\n"),
                         [(1, "HEADERGUARD")])
        self.assertEqual(self.rules("common/core/named.h", GUARD % ("OTHER", "OTHER")),
                         [(1, "HEADERGUARD")])
        self.assertEqual(self.rules("common/core/pair.h",
                                    "#ifndef DRR_PAIR_H\n#define DRR_PAIR_X\n#endif\n"),
                         [(1, "HEADERGUARD")])
        self.assertEqual(self.rules("common/core/out.h",
                                    GUARD % ("OUT", "OUT") + "int g(void);\n"),
                         [(1, "HEADERGUARD")])

    def test_comments(self):
        self.assertEqual(self.rules("cmds/x.c", 'int a; // no\nconst char *u = "http://x";\n'),
                         [(1, "CPPCOMMENTS")])
        self.assertEqual(self.rules("cmds/x.c", "int a;\n/* never closed\n"),
                         [(1, "OPENCOMMENT")])

    def test_exit_codes_only_at_the_edge(self):
        src = ('int f(struct err *e)\n{\n'
               '    if (a)\n        return DRR_EXIT_CONFIG;\n'
               '    if (b)\n        return 86;\n'
               '    if (c)\n        exit(ERR_INTERNAL);\n'
               '    if (d)\n        return err_set(e, 78, "x");\n'
               '    return err_exit_code(ERR_CONFIG, 0);\n}\n')
        found = self.tree.check("common/rds/a.c", src)
        self.assertEqual([(line, rule) for line, rule, _ in found],
                         [(4, "EXITCODE"), (6, "EXITCODE"), (8, "EXITCODE"), (10, "EXITCODE"),
                          (11, "EXITCODE")])
        self.assertIn("ERR_* kind", found[0][2])
        self.assertIn("app_finish", found[4][2])
        # the same in a command, but not in tests (they compare process exit codes)
        self.assertEqual(self.rules("cmds/x.c", "int x = DRR_EXIT_GUARD;\n"),
                         [(1, "EXITCODE")])
        self.assertEqual(self.rules("tests/unit/test_x.c", "int x = DRR_EXIT_GUARD;\n"), [])

    def test_exit_codes_where_they_belong(self):
        ok = ('/* exits 78 (DRR_EXIT_CONFIG) */\nconst char *h = "exit 86 when absent";\n'
              'int f(struct err *e)\n{\n    return err_set(e, ERR_NOT_FOUND, "gone %d", 86);\n}\n'
              'int g(void)\n{\n    return 64 - 1;\n}\n')
        self.assertEqual(self.rules("common/rds/a.c", ok), [])
        self.assertEqual(self.rules("common/core/exitcodes.c",
                                    "int x = DRR_EXIT_CONFIG;\n"), [])
        self.assertEqual(self.rules("common/lambda/step_exec.c",
                                    "int x = DRR_EXIT_SIGNAL_BASE + 9;\n"), [])
        self.assertEqual(self.rules("common/app/app.c",
                                    "int f(int k)\n{\n    return err_exit_code(k, 0);\n}\n"),
                         [])

    def test_exit_code_table_included_only_where_used(self):
        self.tree.write("common/core/exitcodes.h", "")
        unused = '#include "core/err.h"\n#include "core/exitcodes.h"\nint f(void);\n'
        self.assertEqual(self.rules("common/rds/a.c", unused), [(2, "EXITCODE")])
        self.assertEqual(self.rules("tests/unit/test_x.c", unused), [(2, "EXITCODE")])
        used = ('#include "core/exitcodes.h"\n'
                'const char *f(int c)\n{\n    return drr_exit_name(c);\n}\n')
        self.assertEqual(self.rules("common/app/a.c", used), [])

    def test_white_space(self):
        self.assertEqual(self.rules("cmds/x.c", "int a;\n\tint b;\n"), [(2, "TABS")])
        self.assertEqual(self.rules("cmds/x.c", "int a; \nint b;\n"), [(1, "TRAILINGSPACE")])
        self.assertEqual(self.rules("cmds/x.c", b"int a;\r\nint b;\n", binary=True),
                         [(1, "CRLF")])
        self.assertEqual(self.rules("cmds/x.c", "int a;"), [(1, "EOFNEWLINE")])
        self.assertEqual(self.rules("cmds/x.c", "int a;\n\n"), [(2, "EOFNEWLINE")])


class StaleExceptions(unittest.TestCase):
    """An exception the checker lists but nothing needs is itself a finding, over
    the whole tree (no FILE given)."""

    def test_an_unused_exception_is_reported(self):
        tree = Tree()
        try:
            # one of the two includes LAYER_EXCEPTIONS allows for common/config/config.c
            tree.write("common/aws/aws_ini.h", GUARD % ("AWS_INI", "AWS_INI"))
            tree.write("common/config/config.c", '#include "aws/aws_ini.h"\n')
            p = subprocess.run([sys.executable, CHECKSRC, "--top", tree.top],
                               capture_output=True, text=True, timeout=30)
        finally:
            tree.remove()
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        stale = [line for line in p.stdout.splitlines() if ": STALEEXCEPTION: " in line]
        self.assertTrue(stale, p.stdout)
        self.assertTrue(all("LAYER_EXCEPTIONS" in line for line in stale), stale)
        self.assertFalse([line for line in stale if "aws_ini.h" in line], stale)
        self.assertTrue([line for line in stale if "rds/clone.h" in line], stale)


class TheTree(unittest.TestCase):
    def test_main_passes_fast(self):
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, CHECKSRC], capture_output=True, text=True,
                           timeout=60)
        took = time.monotonic() - t0
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertLess(took, 2.0)

    def test_help_lists_every_rule(self):
        p = subprocess.run([sys.executable, CHECKSRC, "-help"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0)
        for rule in ("BANNEDFUNC", "CURLINCLUDE", "PROCSELFEXE", "INCLUDEPATH", "INCLUDELAYER",
                     "OWNERSHIP", "HEADERGUARD", "CPPCOMMENTS", "TABS", "TRAILINGSPACE",
                     "CRLF", "EOFNEWLINE", "EXITCODE"):
            self.assertIn(rule, p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=1)
