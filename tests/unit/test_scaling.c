/* Size scaling of every parser (issue 18): each is fed an input of 64 KB and
 * one at its cap (1 MiB: the config file, run document and AWS INI caps; AWS
 * XML pages and DBLab answers at the same size), shaped to hit the work that
 * was quadratic (many distinct keys, long lists, continuation lines, many
 * "${"), and the two are compared in the same run: 16x the data may take at
 * most SCALING_MAX_RATIO (20) times the CPU time -- linear work gives ~16, the
 * quadratic checks this replaced gave 100-250. In the release build nothing
 * under the caps may take more than 1 s.
 *
 * One allowance, measured rather than assumed: a parser built on cJSON,
 * libxml2 or libyaml may grow as fast as that library's own parse of the same
 * two inputs, timed in the same run, plus 25% (LIBRARY_MARGIN). A 1 MiB
 * input's tree no longer fits in the caches a 64 KB one fits in, so even
 * cJSON_Parse alone grows x18-x33 for x16 the data on this machine; what the
 * project's code adds on top (the duplicate checks that were quadratic) must
 * still be linear.
 *
 * Timing: the thread's CPU time (not wall time: other processes on a shared
 * machine do not count), the best of REPEATS runs of each size, with freed
 * memory kept in the heap between runs (mallopt in main) so that page faults
 * are not charged to the big input only; a check that fails is measured again,
 * up to ATTEMPTS times (a load burst passes, a quadratic parser does not). */
#include <check.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <yaml.h>

#include "aws/aws_ini.h"
#include "aws/aws_xml.h"
#include "core/buf.h"
#include "check_main.h"
#include "app/rundoc.h"
#include "config/config.h"
#include "core/log.h"
#include "dblab/dblab.h"
#include "rds/rds.h"
#include "tmpfiles.h"

#define SMALL             (64 * 1024)
#define CAP               (1024 * 1024)
#define SCALING_MAX_RATIO 20.0
#define LIBRARY_MARGIN    1.25
#define REPEATS           (RELEASE_BUILD ? 7 : 1)
#define ATTEMPTS          5

/* Under ASan/UBSan (make asan) the inputs still run, once each, for what the
 * sanitizers see; the timings are the release build's business (the
 * sanitizers' own allocator and shadow memory change how time grows). */
#if defined(__SANITIZE_ADDRESS__)
#define RELEASE_BUILD 0
#else
#define RELEASE_BUILD 1
#endif

typedef void (*parse_fn)(const char *text, size_t len);

/* An input: head, then item (a printf format given the index twice) repeated
 * while it fits, then tail. */
struct shape {
    const char *head, *item, *tail;
};

/* Around the timing, for parsers that read files rather than text (AWS INI). */
struct scaling_hooks {
    void (*before)(const struct buf *small, const struct buf *big);
    void (*after)(void);
};

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The CPU time of the best of REPEATS runs of each input (each size in its
 * own steady state: the small input's runs follow each other, then the big
 * one's). */
static void measure(parse_fn parse, const struct buf *small, const struct buf *big, double *ts,
                    double *tb)
{
    *ts = *tb = 1e9;
    for (int which = 0; which < 2; which++) {
        const struct buf *in = which ? big : small;
        double *best = which ? tb : ts;
        for (int i = 0; i < REPEATS; i++) {
            double t0 = cpu_now();
            parse(in->data, in->len);
            double t = cpu_now() - t0;
            if (t < *best)
                *best = t;
        }
    }
}

static double ratio_of(double small, double big)
{
    return big / (small > 1e-9 ? small : 1e-9);
}

static void fill(struct buf *b, size_t size, const struct shape *sh);

/* The check itself: make an input of each size, time the parser (and, when it
 * stands on one, the library alone) on both. */
static void check_scaling(const char *what, const struct shape *sh, parse_fn parse,
                          parse_fn library, const struct scaling_hooks *hooks)
{
    const size_t cap = CAP;
    struct buf small = BUF_INIT, big = BUF_INIT;
    fill(&small, SMALL, sh);
    fill(&big, cap, sh);
    if (hooks)
        hooks->before(&small, &big);
    ck_assert_msg(small.len <= SMALL && small.len > SMALL * 9 / 10, "%s: small input %zu bytes",
                  what, small.len);
    ck_assert_msg(big.len <= cap && big.len > cap * 9 / 10, "%s: big input %zu bytes", what,
                  big.len);
    /* A load burst on a shared machine can spoil one measurement; a parser
     * that is not linear fails every attempt (x100 and more, not x20). */
    double ts = 0, tb = 0, ratio = 0, allowed = SCALING_MAX_RATIO, lib_ratio = 0;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        measure(parse, &small, &big, &ts, &tb);
        ratio = ratio_of(ts, tb);
        allowed = SCALING_MAX_RATIO;
        if (library != NULL && RELEASE_BUILD) {
            double ls, lb;
            measure(library, &small, &big, &ls, &lb);
            lib_ratio = ratio_of(ls, lb);
            if (lib_ratio * LIBRARY_MARGIN > allowed)
                allowed = lib_ratio * LIBRARY_MARGIN;
        }
        if (ratio <= allowed || !RELEASE_BUILD)
            break;
    }
    double data_ratio = (double)big.len / (double)small.len;
    printf("scaling %-34s %6zu B %7.3f ms  %7zu B %8.3f ms  data x%.1f  time x%.1f", what,
           small.len, ts * 1e3, big.len, tb * 1e3, data_ratio, ratio);
    if (library != NULL)
        printf("  (library alone x%.1f)", lib_ratio);
    printf("\n");
    fflush(stdout); /* before a failed assertion ends the test process */
    ck_assert_msg(ratio <= allowed || !RELEASE_BUILD,
                  "%s: %.3f ms at %zu bytes, %.3f ms at %zu bytes: x%.1f for "
                  "x%.1f the data, over x%.1f: not linear",
                  what, tb * 1e3, big.len, ts * 1e3, small.len, ratio, data_ratio, allowed);
    if (RELEASE_BUILD)
        ck_assert_msg(tb < 1.0, "%s: %.3f s at %zu bytes (over 1 s under the cap)", what, tb,
                      big.len);
    if (hooks)
        hooks->after();
    buf_release(&small);
    buf_release(&big);
}

struct scaling_case {
    const char *what;
    struct shape shape;
    parse_fn parse;
    parse_fn library; /* the library it stands on, or NULL */
};

static void check_cases(const struct scaling_case *c, size_t n, const struct scaling_hooks *hooks)
{
    for (size_t i = 0; i < n; i++)
        check_scaling(c[i].what, &c[i].shape, c[i].parse, c[i].library, hooks);
}

/* The libraries alone on the same text. */
static void library_cjson(const char *text, size_t len)
{
    (void)len;
    cJSON_Delete(cJSON_Parse(text));
}

static void library_libxml2(const char *text, size_t len)
{
    xmlFreeDoc(xmlReadMemory(text, (int)len, NULL, NULL, XML_PARSE_NONET));
}

static void library_libyaml(const char *text, size_t len)
{
    yaml_parser_t p;
    yaml_document_t d;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (yaml_parser_load(&p, &d))
        yaml_document_delete(&d);
    yaml_parser_delete(&p);
}

/* Appends item(i) while it fits in size bytes (with room for tail). */
static void fill(struct buf *b, size_t size, const struct shape *sh)
{
    buf_puts(b, sh->head);
    char item[1024];
    for (long i = 0;; i++) {
        int n = snprintf(item, sizeof item, sh->item, i, i);
        if (b->len + (size_t)n + strlen(sh->tail) > size)
            break;
        buf_puts(b, item);
    }
    buf_puts(b, sh->tail);
}

/* ---- config YAML --------------------------------------------------------- */

static void parse_config(const char *text, size_t len)
{
    (void)len;
    struct config cfg;
    struct err e = {0};
    (void)config_load_string(text, "scaling.yaml", &cfg, &e);
    config_release(&cfg);
}

START_TEST(config_yaml)
{
    static const struct scaling_case cases[] = {
        /* a section of many distinct keys: check_duplicates compared every pair (40 s at
         * 1 MB) */
        {"config: many keys in a section",
         {"source:\n", "  key%07ld: v%ld\n", ""},
         parse_config,
         library_libyaml},
        /* securityGroups as a long list: pairwise duplicate check (31 s) */
        {"config: securityGroups list",
         {"clone:\n  securityGroups:\n", "  - sg-%014lx%ld\n", ""},
         parse_config,
         library_libyaml},
        /* the same as one comma-separated string ("${SECURITY_GROUPS}" style) */
        {"config: securityGroups string",
         {"clone:\n  securityGroups: \"", "sg-%014lx%ld,", "\"\n"},
         parse_config,
         library_libyaml},
        /* many tags: the 40-tag limit is now checked before the duplicate loop (12 s) */
        {"config: many tags",
         {"clone:\n  tags:\n", "    t%07ld: v%ld\n", ""},
         parse_config,
         library_libyaml},
        /* one value full of "${VAR}" and no ":-": expansion scanned to the end for ":-"
         * at every "${" (5.7 s) */
        {"config: ${VAR} x N",
         {"source:\n  dbName: \"", "${DRR_SCALING_SET}-%ld-%ld,", "\"\n"},
         parse_config,
         library_libyaml},
    };
    check_cases(cases, sizeof cases / sizeof cases[0], NULL);
}
END_TEST

/* ---- run document -------------------------------------------------------- */

static void parse_rundoc(const char *text, size_t len)
{
    (void)len;
    cJSON *doc = NULL;
    struct err e = {0};
    (void)rundoc_parse(text, "stdin", NULL, &doc, &e);
    cJSON_Delete(doc);
}

START_TEST(run_document)
{
    static const struct scaling_case cases[] = {
        /* long lists in a section (the shape of a cluster's instances) */
        {"run document: long list",
         {"{\"apiVersion\":\"dblab-rds-refresh/v1\",\"runId\":\"r\",\"clone\":{\"instances\":[",
          "\"instance-%07ld-%ld\",", "\"last\"]}}"},
         parse_rundoc,
         library_cjson},
        /* many distinct keys in a section: the duplicate-key check compared every pair
         * (fixed by the ownership work, issue 12) */
        {"run document: many keys",
         {"{\"apiVersion\":\"dblab-rds-refresh/v1\",\"runId\":\"r\",\"clone\":{", "\"k%07ld\":%ld,",
          "\"last\":0}}"},
         parse_rundoc,
         library_cjson},
    };
    check_cases(cases, sizeof cases / sizeof cases[0], NULL);
}
END_TEST

/* ---- AWS XML pages ------------------------------------------------------- */

static int count_snapshot(const struct rds_snapshot *s, void *ud, struct err *e)
{
    (void)s;
    (void)e;
    ++*(long *)ud;
    return 0;
}

static void parse_snapshot_page(const char *text, size_t len)
{
    xmlDoc *doc = NULL;
    struct err e = {0};
    if (aws_xml_parse(text, len, "DescribeDBSnapshots response", &doc, &e) != 0)
        ck_abort_msg("scaling page did not parse: %s", e.msg);
    long n = 0;
    ck_assert_int_eq(rds_page_snapshots(aws_xml_result(doc, "DescribeDBSnapshots"),
                                        RDS_KIND_INSTANCE, count_snapshot, &n, &e),
                     0);
    ck_assert_int_gt(n, 0);
    xmlFreeDoc(doc);
}

static void parse_error_document(const char *text, size_t len)
{
    struct aws_error ae;
    aws_error_from_xml(400, text, len, NULL, &ae);
}

START_TEST(aws_xml_pages)
{
    static const struct scaling_case cases[] = {
        {"AWS XML: DescribeDBSnapshots page",
         {"<DescribeDBSnapshotsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">"
          "<DescribeDBSnapshotsResult><DBSnapshots>",
          "<DBSnapshot><DBSnapshotIdentifier>rds:prod-%07ld</DBSnapshotIdentifier>"
          "<DBInstanceIdentifier>prod</DBInstanceIdentifier><Status>available</Status>"
          "<SnapshotType>automated</SnapshotType><SnapshotCreateTime>2026-11-26T02:00:00Z"
          "</SnapshotCreateTime><TagList><Tag><Key>k%ld</Key><Value>v</Value></Tag></TagList>"
          "</DBSnapshot>",
          "</DBSnapshots></DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>"},
         parse_snapshot_page,
         library_libxml2},
        {"AWS XML: error document",
         {"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>",
          "rate exceeded %ld %ld ", "</Message></Error><RequestId>r</RequestId></ErrorResponse>"},
         parse_error_document,
         library_libxml2},
    };
    check_cases(cases, sizeof cases / sizeof cases[0], NULL);
}
END_TEST

/* ---- DBLab JSON ---------------------------------------------------------- */

static void parse_status(const char *text, size_t len)
{
    (void)len;
    struct dblab_status st;
    struct err e = {0};
    (void)dblab_parse_status(text, "GET /status", &st, &e);
    dblab_status_release(&st);
}

static void parse_config_projection(const char *text, size_t len)
{
    (void)len;
    cJSON *j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    cJSON *want = cJSON_CreateString("x");
    (void)dblab_projection_matches(j, "retrieval.spec.logicalDump.options.source.connection.host",
                                   want);
    cJSON_Delete(want);
    cJSON_Delete(j);
}

START_TEST(dblab_json)
{
    static const struct scaling_case cases[] = {
        {"DBLab: status with many alerts",
         {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"failed\",\"alerts\":{",
          "\"alert_%07ld\":{\"level\":\"error\",\"message\":\"m\",\"count\":%ld},",
          "\"last\":{}}}}"},
         parse_status,
         library_cjson},
        {"DBLab: status with many pools",
         {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"finished\"},\"pools\":[",
          "{\"name\":\"p%07ld\",\"dataStateAt\":\"2026-11-26 02:00:00 +00:00\",\"n\":%ld},",
          "{}]}"},
         parse_status,
         library_cjson},
        {"DBLab: config projection",
         {"{\"retrieval\":{\"spec\":{\"logicalDump\":{\"options\":{\"databases\":{",
          "\"db%07ld\":{\"tables\":[\"t%ld\"]},",
          "\"x\":{}},\"source\":{\"connection\":{\"host\":\"x\"}}}}}}}"},
         parse_config_projection,
         library_cjson},
    };
    check_cases(cases, sizeof cases / sizeof cases[0], NULL);
}
END_TEST

/* ---- AWS INI ------------------------------------------------------------- */

static char *ini_dir;

/* The two files written for one check: the text each came from, its path. */
static struct {
    const char *text;
    char *path;
} ini_files[2];

static void parse_ini(const char *text, size_t len)
{
    (void)len;
    for (size_t i = 0; i < 2; i++)
        if (ini_files[i].text == text)
            setenv("AWS_CONFIG_FILE", ini_files[i].path, 1);
    struct err e = {0};
    ck_assert_int_eq(aws_ini_check(&e), 0);
    free(aws_ini_get("default", "s3"));
    free(aws_ini_get("prod", "region"));
}

/* The files are what is read: each size is written once, then timed. */
static void ini_write(const struct buf *small, const struct buf *big)
{
    ini_files[0].text = small->data;
    ini_files[0].path = tmp_write(ini_dir, "small", small->data);
    ini_files[1].text = big->data;
    ini_files[1].path = tmp_write(ini_dir, "big", big->data);
}

static void ini_remove(void)
{
    for (size_t i = 0; i < 2; i++) {
        unlink(ini_files[i].path);
        free(ini_files[i].path);
    }
}

START_TEST(aws_ini_files)
{
    static const struct scaling_case cases[] = {
        /* one value continued on many lines: rebuilt per line (12 s for 256 KB) */
        {"AWS INI: continuation lines",
         {"[default]\ns3 =\n", "  key%07ld = value%ld\n", ""},
         parse_ini,
         NULL},
        {"AWS INI: many sections",
         {"", "[profile p%07ld]\nregion = r%ld\n", "[profile prod]\nregion = x\n"},
         parse_ini,
         NULL},
    };
    static const struct scaling_hooks files = {ini_write, ini_remove};
    ini_dir = tmp_dir_new();
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/drr-test/credentials", 1);
    check_cases(cases, sizeof cases / sizeof cases[0], &files);
    tmp_dir_remove(ini_dir);
}
END_TEST

/* ---- ${VAR} expansion ---------------------------------------------------- */

static void parse_expansion(const char *text, size_t len)
{
    (void)len;
    char *out = NULL, *why = NULL;
    (void)env_expand(text, &out, &why);
    free(out);
    free(why);
}

START_TEST(env_expansion)
{
    static const struct scaling_case cases[] = {
        {"expand: ${VAR} x N", {"", "${DRR_SCALING_SET}-%ld-%ld,", ""}, parse_expansion, NULL},
        {"expand: ${VAR:-default} x N",
         {"", "${DRR_SCALING_UNSET_%ld:-d%ld}", ""},
         parse_expansion,
         NULL},
        {"expand: $VAR x N", {"", "$DRR_SCALING_SET-%ld-%ld ", ""}, parse_expansion, NULL},
        /* ends unterminated: an error */
        {"expand: $$ and lone $ x N", {"", "pa$$word %ld $ %ld ", "${"}, parse_expansion, NULL},
    };
    check_cases(cases, sizeof cases / sizeof cases[0], NULL);
}
END_TEST

int main(void)
{
    /* Freed memory stays in the heap between runs (glibc would return it and
     * fault it in again on the next run, a cost of the big input only). */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    FILE *devnull = fopen("/dev/null", "w");
    if (devnull != NULL)
        log_set_stream(devnull);
    setenv("AWS_CONFIG_FILE", "/nonexistent/drr-test/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/drr-test/credentials", 1);
    setenv("DRR_SCALING_SET", "value", 1);
    return run_suites(SUITE_OF_TESTS("scaling", 120, config_yaml, run_document, aws_xml_pages,
                                     dblab_json, aws_ini_files, env_expansion),
                      NULL);
}
