/* config: every key, every class of error, env expansion, durations, the
 * environment resolution of region/endpoint/profile/maxAttempts, redaction. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "config/config.h"
#include "core/log.h"
#include "core/suggest.h"
#include "tmpfiles.h"

static char *dir;
static struct config cfg;
static struct err e;

static void setup(void)
{
    static const char *const vars[] = {"AWS_REGION",
                                       "AWS_DEFAULT_REGION",
                                       "AWS_PROFILE",
                                       "AWS_ENDPOINT_URL",
                                       "AWS_ENDPOINT_URL_RDS",
                                       "AWS_MAX_ATTEMPTS",
                                       "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                                       "DBLAB_TOKEN",
                                       "DRR_TEST_VAR",
                                       "DRR_TEST_EMPTY",
                                       NULL};
    for (size_t i = 0; vars[i] != NULL; i++)
        unsetenv(vars[i]);
    dir = tmp_dir_new();
    setenv("HOME", dir, 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/drr-test/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/drr-test/credentials", 1);
    memset(&cfg, 0, sizeof cfg);
    memset(&e, 0, sizeof e);
}

static void teardown(void)
{
    config_release(&cfg);
    tmp_dir_remove(dir);
    dir = NULL;
}

/* A valid configuration; %s slots let tests add keys to each section. */
static char *yaml_with(const char *source_extra, const char *clone_extra, const char *dblab_extra,
                       const char *aws_extra)
{
    char *y = NULL;
    int n = asprintf(&y,
                     "source:\n"
                     "  type: rds\n"
                     "  identifier: production-db\n"
                     "%s"
                     "clone:\n"
                     "  instanceClass: db.t3.medium\n"
                     "%s"
                     "dblab:\n"
                     "  apiEndpoint: https://dblab.example.com:2345\n"
                     "  token: tok-secret-value\n"
                     "%s"
                     "aws:\n"
                     "  region: us-east-1\n"
                     "%s",
                     source_extra ? source_extra : "", clone_extra ? clone_extra : "",
                     dblab_extra ? dblab_extra : "", aws_extra ? aws_extra : "");
    ck_assert_int_ge(n, 0);
    return y;
}

static int load(const char *yaml)
{
    config_release(&cfg);
    memset(&e, 0, sizeof e);
    return config_load_string(yaml, "c.yaml", &cfg, &e);
}

static int load_with(const char *s, const char *c, const char *d, const char *a)
{
    char *y = yaml_with(s, c, d, a);
    int rc = load(y);
    free(y);
    return rc;
}

static char *load_file_logged(const char *yaml, mode_t mode);

#define ck_ok(rc) ck_assert_msg((rc) == 0, "expected valid, got %d: %s", (rc), e.msg)
#define ck_fail(rc, substr)                                                                        \
    do {                                                                                           \
        int rc_ = (rc);                                                                            \
        ck_assert_msg(rc_ == ERR_CONFIG, "expected 78, got %d (%s)", rc_, e.msg);                  \
        ck_assert_msg(strstr(e.msg, (substr)) != NULL, "message '%s' lacks '%s'", e.msg,           \
                      (substr));                                                                   \
        ck_assert_msg(strchr(e.msg, '\n') == NULL, "multi-line message '%s'", e.msg);              \
    } while (0)

/* ---- trust in the file (the ssh rule) ---------------------------------- */

static int load_file_mode(const char *name, mode_t mode, uid_t uid)
{
    char *y = yaml_with(NULL, NULL, NULL, NULL);
    char *path = tmp_write(dir, name, y);
    free(y);
    ck_assert_int_eq(chmod(path, mode), 0);
    if (uid != (uid_t)-1)
        ck_assert_int_eq(chown(path, uid, (gid_t)-1), 0);
    config_release(&cfg);
    memset(&e, 0, sizeof e);
    int rc = config_load(path, &cfg, &e);
    free(path);
    return rc;
}

START_TEST(config_file_trust)
{
    uid_t me = geteuid();
    ck_ok(load_file_mode("ok.yaml", 0600, (uid_t)-1));
    ck_ok(load_file_mode("ok2.yaml", 0644, (uid_t)-1));
    /* group-writable but the user's own (a user private group): fine */
    ck_ok(load_file_mode("g.yaml", 0664, (uid_t)-1));
    ck_fail(load_file_mode("w.yaml", 0666, (uid_t)-1),
            "w.yaml: writable by others (mode 0666); "
            "refusing it: whoever can change it can point dblab.apiEndpoint or aws.endpoint");
    ck_fail(load_file_mode("w2.yaml", 0602, (uid_t)-1), "writable by others (mode 0602)");
    if (me == 0) {
        /* root: another user's file is refused, writable by group or not */
        ck_fail(load_file_mode("other.yaml", 0664, 4242), "writable by group");
        ck_fail(load_file_mode("other2.yaml", 0644, 4242),
                "owned by uid 4242: running as root, what another user can change is refused");
    }

    /* the directory: world-writable is refused, unless sticky (/tmp) */
    char *path = tmp_write(dir, "in-dir.yaml", "source:\n");
    ck_assert_int_eq(chmod(dir, 0777), 0);
    config_release(&cfg);
    memset(&e, 0, sizeof e);
    ck_fail(config_load(path, &cfg, &e), "in-dir.yaml: its directory");
    ck_assert_msg(strstr(e.msg, "is writable by others (mode 0777); refusing the file") != NULL,
                  "%s", e.msg);
    ck_assert_int_eq(chmod(dir, 01777), 0);
    char *y = yaml_with(NULL, NULL, NULL, NULL);
    free(path);
    path = tmp_write(dir, "sticky.yaml", y);
    free(y);
    config_release(&cfg);
    memset(&e, 0, sizeof e);
    ck_ok(config_load(path, &cfg, &e));
    ck_assert_int_eq(chmod(dir, 0700), 0);
    free(path);
}
END_TEST

/* Nesting is bounded on the parser's events, before composing. */
START_TEST(yaml_nesting_is_bounded)
{
    size_t n = 200000;
    char *deep = malloc(n + 1);
    memset(deep, '[', n);
    deep[n] = '\0';
    ck_fail(load(deep), "c.yaml:1:33: nested more than 32 levels deep");
    memset(deep, '{', n);
    ck_fail(load(deep), "nested more than 32 levels deep");
    free(deep);
    /* 32 levels are fine as far as nesting goes (the keys are then wrong) */
    char buf[256] = "source: ";
    size_t at = strlen(buf);
    memset(buf + at, '[', 31);
    memset(buf + at + 31, ']', 31);
    buf[at + 62] = '\0';
    ck_assert_int_eq(load(buf), ERR_CONFIG);
    ck_assert_ptr_null(strstr(e.msg, "nested"));
}
END_TEST

/* Plain http:// to another host would carry the token in clear. */
START_TEST(dblab_plain_http)
{
    ck_fail(load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
                 "dblab:\n  apiEndpoint: http://dblab.internal:2345\n  token: t\naws:\n"
                 "  region: us-east-1\n"),
            "c.yaml:7:16: dblab.apiEndpoint: plain http:// to a host that is not this machine "
            "would send the token in clear");
    ck_ok(load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
               "dblab:\n  apiEndpoint: http://dblab.internal:2345\n  token: t\n  insecure: true\n"
               "aws:\n  region: us-east-1\n"));
    const char *local[] = {"http://127.0.0.1:2345", "http://localhost", "http://[::1]:80/x",
                           "http://127.10.0.3/"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        char *y = NULL;
        ck_assert_int_ge(asprintf(&y,
                                  "source:\n  type: rds\n  identifier: x\nclone:\n"
                                  "  instanceClass: db.t3.small\ndblab:\n  apiEndpoint: %s\n"
                                  "  token: t\naws:\n  region: us-east-1\n",
                                  local[i]),
                         0);
        ck_ok(load(y));
        free(y);
    }
    ck_fail(load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
                 "dblab:\n  apiEndpoint: http://127.evil.example\n  token: t\naws:\n"
                 "  region: us-east-1\n"),
            "plain http://");
    /* a token that would inject headers (YAML's "\r\n" escapes) */
    ck_fail(load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
                 "dblab:\n  apiEndpoint: https://h\n  token: \"abc\\r\\nX-Injected: yes\"\n"
                 "aws:\n  region: us-east-1\n"),
            "c.yaml:8:10: dblab.token: contains a control character (byte 0x0d at offset 3)");
}
END_TEST

/* ---- valid configurations -------------------------------------------- */

START_TEST(minimal_defaults)
{
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    ck_assert_str_eq(cfg.path, "c.yaml");
    ck_assert_int_eq(cfg.source.type, SOURCE_RDS);
    ck_assert_str_eq(cfg.source.identifier, "production-db");
    ck_assert_ptr_null(cfg.source.snapshot_identifier);
    ck_assert_int_eq(cfg.source.snapshot_type, SNAPSHOT_AUTOMATED);
    ck_assert_int_eq(cfg.source.max_snapshot_age, 0);
    ck_assert_ptr_null(cfg.source.db_name);
    ck_assert_ptr_null(cfg.source.username);
    ck_assert_ptr_null(cfg.source.password);
    ck_assert_str_eq(cfg.clone.instance_class, "db.t3.medium");
    ck_assert_ptr_null(cfg.clone.subnet_group);
    ck_assert_uint_eq(cfg.clone.n_security_groups, 0);
    ck_assert_int_eq(cfg.clone.publicly_accessible, TRI_UNSET);
    ck_assert_int_eq(cfg.clone.enable_iam_auth, TRI_UNSET);
    ck_assert_int_eq(cfg.clone.port, 0);
    ck_assert_int_eq(cfg.clone.deletion_protection, 0);
    ck_assert_uint_eq(cfg.clone.n_tags, 0);
    ck_assert_int_eq(cfg.clone.max_age, 48 * 3600);
    ck_assert_int_eq(cfg.clone.wait_timeout, 2 * 3600);
    ck_assert_str_eq(cfg.dblab.api_endpoint, "https://dblab.example.com:2345");
    ck_assert_str_eq(cfg.dblab.token, "tok-secret-value");
    ck_assert_int_eq(cfg.dblab.insecure, 0);
    ck_assert_ptr_null(cfg.dblab.ca_cert);
    ck_assert_int_eq(cfg.dblab.poll_interval, 30);
    ck_assert_int_eq(cfg.dblab.timeout, 4 * 3600);
    ck_assert_int_eq(cfg.dblab.start_timeout, 300);
    ck_assert_int_eq(cfg.dblab.dump_parallel_jobs, PARALLEL_UNSET);
    ck_assert_int_eq(cfg.dblab.restore_parallel_jobs, PARALLEL_UNSET);
    ck_assert_str_eq(cfg.aws.region, "us-east-1");
    ck_assert_ptr_null(cfg.aws.endpoint);
    ck_assert_ptr_null(cfg.aws.profile);
    ck_assert_int_eq(cfg.aws.max_attempts, CONFIG_DEFAULT_MAX_ATTEMPTS);
    ck_assert_str_eq(cfg.aws.region_source, "aws.region");
    ck_assert_ptr_null(cfg.aws.endpoint_source);
    ck_assert_str_eq(cfg.aws.max_attempts_source, "default");
}
END_TEST

START_TEST(every_key)
{
    char *ca = tmp_write(dir, "ca.pem", "-----BEGIN CERTIFICATE-----\n");
    char *aws_cfg = tmp_write(dir, "awsconfig", "[profile refresh]\nregion = eu-west-1\n");
    setenv("AWS_CONFIG_FILE", aws_cfg, 1);
    char *y = NULL;
    ck_assert_int_ge(
        asprintf(&y,
                 "source:\n"
                 "  type: aurora-cluster\n"
                 "  identifier: production-aurora\n"
                 "  snapshotIdentifier: arn:aws:rds:us-east-1:123456789012:cluster-snapshot:s1\n"
                 "  snapshotType: manual\n"
                 "  maxSnapshotAge: 1d12h\n"
                 "  dbName: app\n"
                 "  username: dblab_user\n"
                 "  password: \"p@ss w0rd!\"\n"
                 "clone:\n"
                 "  instanceClass: db.r6g.large\n"
                 "  subnetGroup: private-subnets\n"
                 "  securityGroups: [sg-1111, sg-2222]\n"
                 "  publiclyAccessible: no\n"
                 "  enableIAMAuth: TRUE\n"
                 "  parameterGroup: pg-clone\n"
                 "  optionGroup: og-clone\n"
                 "  clusterParameterGroup: cpg-clone\n"
                 "  port: 6543\n"
                 "  storageType: aurora-iopt1\n"
                 "  engineVersion: \"16.6\"\n"
                 "  deletionProtection: true\n"
                 "  tags:\n"
                 "    team: data\n"
                 "    cost-center: 42\n"
                 "    empty:\n"
                 "  maxAge: 12h\n"
                 "  waitTimeout: 90m\n"
                 "dblab:\n"
                 "  apiEndpoint: http://127.0.0.1:2345/api/\n"
                 "  token: secretsmanager:prod/dblab#token\n"
                 "  insecure: true\n"
                 "  caCert: %s\n"
                 "  pollInterval: 10s\n"
                 "  timeout: 6h\n"
                 "  startTimeout: 2m\n"
                 "  dumpParallelJobs: auto\n"
                 "  restoreParallelJobs: 8\n"
                 "aws:\n"
                 "  region: eu-central-1\n"
                 "  endpoint: http://127.0.0.1:4566\n"
                 "  profile: refresh\n"
                 "  maxAttempts: 3\n",
                 ca),
        0);
    ck_ok(load(y));
    free(y);
    ck_assert_int_eq(cfg.source.type, SOURCE_AURORA_CLUSTER);
    ck_assert_str_eq(cfg.source.identifier, "production-aurora");
    ck_assert_str_eq(cfg.source.snapshot_identifier,
                     "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:s1");
    ck_assert_int_eq(cfg.source.snapshot_type, SNAPSHOT_MANUAL);
    ck_assert_int_eq(cfg.source.max_snapshot_age, 36 * 3600);
    ck_assert_str_eq(cfg.source.db_name, "app");
    ck_assert_str_eq(cfg.source.username, "dblab_user");
    ck_assert_str_eq(cfg.source.password, "p@ss w0rd!");
    ck_assert_str_eq(cfg.clone.instance_class, "db.r6g.large");
    ck_assert_str_eq(cfg.clone.subnet_group, "private-subnets");
    ck_assert_uint_eq(cfg.clone.n_security_groups, 2);
    ck_assert_str_eq(cfg.clone.security_groups[0], "sg-1111");
    ck_assert_str_eq(cfg.clone.security_groups[1], "sg-2222");
    ck_assert_int_eq(cfg.clone.publicly_accessible, TRI_FALSE);
    ck_assert_int_eq(cfg.clone.enable_iam_auth, TRI_TRUE);
    ck_assert_str_eq(cfg.clone.parameter_group, "pg-clone");
    ck_assert_str_eq(cfg.clone.option_group, "og-clone");
    ck_assert_str_eq(cfg.clone.cluster_parameter_group, "cpg-clone");
    ck_assert_int_eq(cfg.clone.port, 6543);
    /* the Go original sends no StorageType for Aurora: a warning, not sent */
    ck_assert_ptr_null(cfg.clone.storage_type);
    ck_assert_str_eq(cfg.clone.engine_version, "16.6");
    ck_assert_int_eq(cfg.clone.deletion_protection, 1);
    ck_assert_uint_eq(cfg.clone.n_tags, 3);
    ck_assert_str_eq(cfg.clone.tags[0].key, "team");
    ck_assert_str_eq(cfg.clone.tags[0].value, "data");
    ck_assert_str_eq(cfg.clone.tags[1].key, "cost-center");
    ck_assert_str_eq(cfg.clone.tags[1].value, "42");
    ck_assert_str_eq(cfg.clone.tags[2].key, "empty");
    ck_assert_str_eq(cfg.clone.tags[2].value, "");
    ck_assert_int_eq(cfg.clone.max_age, 12 * 3600);
    ck_assert_int_eq(cfg.clone.wait_timeout, 90 * 60);
    ck_assert_str_eq(cfg.dblab.api_endpoint, "http://127.0.0.1:2345/api");
    ck_assert_str_eq(cfg.dblab.token, "secretsmanager:prod/dblab#token");
    ck_assert_int_eq(cfg.dblab.insecure, 1);
    ck_assert_str_eq(cfg.dblab.ca_cert, ca);
    ck_assert_int_eq(cfg.dblab.poll_interval, 10);
    ck_assert_int_eq(cfg.dblab.timeout, 6 * 3600);
    ck_assert_int_eq(cfg.dblab.start_timeout, 120);
    ck_assert_int_eq(cfg.dblab.dump_parallel_jobs, PARALLEL_AUTO);
    ck_assert_int_eq(cfg.dblab.restore_parallel_jobs, 8);
    ck_assert_str_eq(cfg.aws.region, "eu-central-1");
    ck_assert_str_eq(cfg.aws.endpoint, "http://127.0.0.1:4566");
    ck_assert_str_eq(cfg.aws.profile, "refresh");
    ck_assert_int_eq(cfg.aws.max_attempts, 3);
    free(ca);
    free(aws_cfg);
}
END_TEST

START_TEST(example_files)
{
    setenv("DBLAB_TOKEN", "example-token-value", 1);
    ck_ok(config_load("examples/config.yaml", &cfg, &e));
    ck_assert_str_eq(cfg.dblab.token, "example-token-value");
    ck_assert_int_eq(cfg.clone.enable_iam_auth, TRI_TRUE);
    config_release(&cfg);
    ck_ok(config_load("examples/config-aurora.yaml", &cfg, &e));
    ck_assert_int_eq(cfg.source.type, SOURCE_AURORA_CLUSTER);
}
END_TEST

START_TEST(null_and_empty_values_are_unset)
{
    ck_ok(load_with("  snapshotIdentifier: \"\"\n  dbName: ~\n  username: null\n",
                    "  port:\n  securityGroups:\n  tags:\n", "  caCert: \"\"\n", NULL));
    ck_assert_ptr_null(cfg.source.snapshot_identifier);
    ck_assert_ptr_null(cfg.source.db_name);
    ck_assert_ptr_null(cfg.source.username);
    ck_assert_int_eq(cfg.clone.port, 0);
    ck_assert_uint_eq(cfg.clone.n_security_groups, 0);
    ck_assert_uint_eq(cfg.clone.n_tags, 0);
    ck_assert_ptr_null(cfg.dblab.ca_cert);
    /* a quoted "null" is a string */
    ck_ok(load_with("  dbName: \"null\"\n", NULL, NULL, NULL));
    ck_assert_str_eq(cfg.source.db_name, "null");
}
END_TEST

START_TEST(security_groups_forms)
{
    ck_ok(load_with(NULL, "  securityGroups: sg-a, sg-b ,sg-c\n", NULL, NULL));
    ck_assert_uint_eq(cfg.clone.n_security_groups, 3);
    ck_assert_str_eq(cfg.clone.security_groups[2], "sg-c");
    setenv("DRR_TEST_VAR", "sg-x,sg-y", 1);
    ck_ok(load_with(NULL, "  securityGroups: ${DRR_TEST_VAR}\n", NULL, NULL));
    ck_assert_uint_eq(cfg.clone.n_security_groups, 2);
    ck_assert_str_eq(cfg.clone.security_groups[1], "sg-y");
    ck_fail(load_with(NULL, "  securityGroups: [default]\n", NULL, NULL),
            "c.yaml:6:19: clone.securityGroups: \"default\" is not a security group ID");
    ck_fail(load_with(NULL, "  securityGroups: [sg-1, sg-1]\n", NULL, NULL), "listed twice");
    ck_fail(load_with(NULL, "  securityGroups: {a: b}\n", NULL, NULL),
            "clone.securityGroups: must be a list of security group IDs, got a mapping");
    ck_fail(load_with(NULL, "  securityGroups:\n    - [sg-1]\n", NULL, NULL),
            "c.yaml:7:7: clone.securityGroups: list items must be security group IDs, got a list");
    ck_fail(load_with(NULL, "  securityGroups:\n    - \"\"\n", NULL, NULL),
            "empty security group ID");
}
END_TEST

/* ---- required keys ---------------------------------------------------- */

START_TEST(required_keys)
{
    ck_fail(load("source:\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
                 "dblab:\n  apiEndpoint: https://h\n  token: t\naws:\n  region: us-east-1\n"),
            "c.yaml:2:3: source.type: required");
    ck_fail(load("source:\n  type: rds\nclone:\n  instanceClass: db.t3.small\n"
                 "dblab:\n  apiEndpoint: https://h\n  token: t\naws:\n  region: us-east-1\n"),
            "c.yaml:2:3: source.identifier: required");
    ck_fail(load("source:\n  type: rds\n  identifier: x\nclone:\n  subnetGroup: s\n"
                 "dblab:\n  apiEndpoint: https://h\n  token: t\naws:\n  region: us-east-1\n"),
            "c.yaml:5:3: clone.instanceClass: required");
    ck_fail(load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
                 "dblab:\n  token: t\naws:\n  region: us-east-1\n"),
            "c.yaml:7:3: dblab.apiEndpoint: required");
    ck_fail(load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
                 "dblab:\n  apiEndpoint: https://h\n  token: \"\"\naws:\n  region: us-east-1\n"),
            "c.yaml:8:10: dblab.token: required");
    ck_fail(load("source:\n  type: rds\n  identifier: x\ndblab:\n  apiEndpoint: https://h\n"
                 "  token: t\naws:\n  region: us-east-1\n"),
            "c.yaml:1:1: clone.instanceClass: required (there is no clone section)");
    ck_fail(load("source:\n  type:\n  identifier: x\n"), "c.yaml:2:8: source.type: required");
    ck_fail(load("clone:\n"), "c.yaml:1:1: source.type: required (there is no source section)");
}
END_TEST

START_TEST(region_required)
{
    ck_fail(load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
                 "dblab:\n  apiEndpoint: https://h\n  token: t\n"),
            "c.yaml:1:1: aws.region: required (set aws.region, AWS_REGION or AWS_DEFAULT_REGION");
    ck_fail(load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
                 "dblab:\n  apiEndpoint: https://h\n  token: t\naws:\n  maxAttempts: 2\n"),
            "c.yaml:10:3: aws.region: required");
}
END_TEST

/* ---- unknown keys, structure ------------------------------------------ */

START_TEST(unknown_key_suggestion)
{
    ck_fail(load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClas: db.t3.medium\n"),
            "c.yaml:5:3: clone.instanceClas: unknown key (did you mean instanceClass?)");
    ck_fail(load_with(NULL, "  instance_class: db.t3.large\n", NULL, NULL),
            "clone.instance_class: unknown key (did you mean instanceClass?)");
    ck_fail(load_with(NULL, NULL, "  pollintervall: 5s\n", NULL),
            "c.yaml:9:3: dblab.pollintervall: unknown key (did you mean pollInterval?)");
    ck_fail(load_with("  region: us-east-1\n", NULL, NULL, NULL),
            "c.yaml:4:3: source.region: unknown key (did you mean aws.region?");
    ck_fail(load_with(NULL, NULL, NULL, "  color: blue\n"),
            "aws.color: unknown key (the aws section has: region, endpoint, profile, maxAttempts)");
}
END_TEST

START_TEST(unknown_sections)
{
    ck_fail(load("clones:\n  instanceClass: x\n"),
            "c.yaml:1:1: clones: unknown section (did you mean clone?)");
    ck_fail(load("region: us-east-1\n"),
            "c.yaml:1:1: region: unknown section (did you mean aws.region?");
    ck_fail(load("logging:\n  level: debug\n"),
            "logging: unknown section (the sections are source, clone, dblab, aws)");
}
END_TEST

START_TEST(duplicate_keys)
{
    ck_fail(load("source:\n  type: rds\n  type: aurora-cluster\n"),
            "c.yaml:3:3: source.type: duplicate key (first at line 2)");
    ck_fail(load("aws:\n  region: us-east-1\naws:\n  region: eu-west-1\n"),
            "c.yaml:3:1: aws: duplicate key (first at line 1)");
    ck_fail(load_with(NULL, "  tags:\n    a: 1\n    a: 2\n", NULL, NULL),
            "c.yaml:8:5: clone.tags.a: duplicate tag");
}
END_TEST

START_TEST(section_shapes)
{
    ck_fail(load("source: rds\n"), "c.yaml:1:9: source: must be a mapping of keys, got a scalar");
    ck_fail(load("clone:\n  - db.t3.medium\n"),
            "c.yaml:2:3: clone: must be a mapping of keys, got a list");
    ck_fail(
        load("- source\n- clone\n"),
        "c.yaml:1:1: the configuration must be a mapping of sections (source, clone, dblab, aws), got a list");
    ck_fail(load("just a string\n"), "must be a mapping of sections");
    ck_fail(load("dblab:\n  token: [a, b]\n"),
            "c.yaml:2:10: dblab.token: must be a single value, got a list");
    ck_fail(load("? [a, b]\n: c\n"), "keys must be plain names, got a list");
}
END_TEST

START_TEST(yaml_errors)
{
    ck_fail(load("source:\n  type: rds\n identifier: x\n"), "c.yaml:3:");
    ck_fail(load("source:\n  type: rds\n identifier: x\n"), "YAML syntax error");
    ck_fail(load("source: {type: rds\n"), "YAML syntax error");
    ck_fail(load("source:\n\ttype: rds\n"), "c.yaml:2:1: YAML syntax error");
    ck_fail(load("source:\n  type: \"unterminated\n"), "YAML syntax error");
    char *two = yaml_with(NULL, NULL, NULL, "---\naws:\n  region: eu-west-1\n");
    ck_fail(load(two), "c.yaml:12:1: a second YAML document");
    free(two);
}
END_TEST

START_TEST(empty_and_missing_files)
{
    ck_fail(load(""), "c.yaml: empty configuration");
    ck_fail(load("# only a comment\n\n"), "c.yaml: empty configuration");
    ck_fail(load("~\n"), "c.yaml: empty configuration");
    char *p = tmp_write(dir, "empty.yaml", "");
    config_release(&cfg); /* config_load zeroes cfg first */
    ck_assert_int_eq(config_load(p, &cfg, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "empty configuration"));
    ck_assert_ptr_nonnull(strstr(e.msg, p));
    config_release(&cfg);
    free(p);
    p = NULL;
    ck_assert_int_ge(asprintf(&p, "%s/does-not-exist.yaml", dir), 0);
    ck_assert_int_eq(config_load(p, &cfg, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "cannot open: No such file or directory"));
    config_release(&cfg);
    ck_assert_int_eq(config_load(dir, &cfg, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "cannot read: Is a directory"));
    free(p);
    config_release(&cfg);
    /* more than 1 MiB is not a configuration file */
    char *big = malloc(1024 * 1024 + 2);
    memset(big, '#', 1024 * 1024 + 1);
    big[1024 * 1024 + 1] = '\0';
    p = tmp_write(dir, "big.yaml", big);
    ck_assert_int_eq(config_load(p, &cfg, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "big.yaml: larger than 1048576 bytes"));
    free(p);
    free(big);
}
END_TEST

/* ---- types and ranges --------------------------------------------------- */

START_TEST(enums)
{
    ck_fail(
        load("source:\n  type: rsd\n"),
        "c.yaml:2:9: source.type: unknown value \"rsd\" (did you mean \"rds\"? one of: rds, aurora-cluster)");
    ck_fail(load("source:\n  type: mysql\n"),
            "unknown value \"mysql\" (one of: rds, aurora-cluster)");
    ck_fail(load("source:\n  type: aurora\n"),
            "unknown value \"aurora\" (did you mean \"aurora-cluster\"?");
    ck_fail(load_with("  snapshotType: manul\n", NULL, NULL, NULL), "did you mean \"manual\"?");
    static const char *const types[] = {"automated", "manual", "awsbackup", "shared", "any"};
    for (int i = 0; i < 5; i++) {
        char line[64];
        snprintf(line, sizeof line, "  snapshotType: %s\n", types[i]);
        ck_ok(load_with(line, NULL, NULL, NULL));
        ck_assert_int_eq(cfg.source.snapshot_type, i);
        ck_assert_str_eq(snapshot_type_name(cfg.source.snapshot_type), types[i]);
    }
    ck_assert_str_eq(source_type_name(SOURCE_RDS), "rds");
    ck_assert_str_eq(source_type_name(SOURCE_AURORA_CLUSTER), "aurora-cluster");
}
END_TEST

START_TEST(ports)
{
    ck_ok(load_with(NULL, "  port: 1\n", NULL, NULL));
    ck_assert_int_eq(cfg.clone.port, 1);
    ck_ok(load_with(NULL, "  port: 65535\n", NULL, NULL));
    ck_fail(load_with(NULL, "  port: 0\n", NULL, NULL),
            "c.yaml:6:9: clone.port: must be a port number 1-65535, got \"0\"");
    ck_fail(load_with(NULL, "  port: 65536\n", NULL, NULL), "1-65535");
    ck_fail(load_with(NULL, "  port: 54x\n", NULL, NULL), "1-65535");
    ck_fail(load_with(NULL, "  port: -5\n", NULL, NULL), "1-65535");
    ck_fail(load_with(NULL, "  port: 99999999999999999999\n", NULL, NULL), "1-65535");
}
END_TEST

START_TEST(booleans)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "on"};
    static const char *const no[] = {"false", "False", "no", "off", "\"false\""};
    for (int i = 0; i < 5; i++) {
        char line[64];
        snprintf(line, sizeof line, "  publiclyAccessible: %s\n", yes[i]);
        ck_ok(load_with(NULL, line, NULL, NULL));
        ck_assert_int_eq(cfg.clone.publicly_accessible, TRI_TRUE);
        snprintf(line, sizeof line, "  insecure: %s\n", no[i]);
        ck_ok(load_with(NULL, NULL, line, NULL));
        ck_assert_int_eq(cfg.dblab.insecure, 0);
    }
    ck_fail(load_with(NULL, "  enableIAMAuth: maybe\n", NULL, NULL),
            "clone.enableIAMAuth: must be true or false, got \"maybe\"");
    ck_fail(load_with(NULL, NULL, "  insecure: 1\n", NULL),
            "dblab.insecure: must be true or false");
}
END_TEST

/* source.restoreFrom, clone.copyOnWrite, clone.masterPassword (issue 16). */
START_TEST(point_in_time_and_master_password)
{
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    ck_assert_int_eq(cfg.source.restore_from, RESTORE_SNAPSHOT);
    ck_assert_int_eq(cfg.clone.copy_on_write, 1);
    /* no password, no IAM: DBLab needs one and gets the clone's own */
    ck_assert_int_eq(config_master_password(&cfg), MASTER_PASSWORD_MANAGED);
    ck_ok(load_with("  password: pw-from-config\n", NULL, NULL, NULL));
    ck_assert_int_eq(config_master_password(&cfg), MASTER_PASSWORD_KEEP);
    ck_ok(load_with(NULL, "  enableIAMAuth: true\n", NULL, NULL));
    ck_assert_int_eq(config_master_password(&cfg), MASTER_PASSWORD_KEEP);
    ck_ok(load_with(NULL, "  masterPassword: keep\n", NULL, NULL));
    ck_assert_int_eq(config_master_password(&cfg), MASTER_PASSWORD_KEEP);
    ck_ok(load_with("  password: pw\n", "  masterPassword: managed\n", NULL, NULL));
    ck_assert_int_eq(config_master_password(&cfg), MASTER_PASSWORD_MANAGED);
    ck_fail(load_with(NULL, "  masterPassword: manged\n", NULL, NULL),
            "clone.masterPassword: unknown value \"manged\" (did you mean \"managed\"?");
    ck_fail(load_with(NULL, "  masterPassword: managed\n  enableIAMAuth: true\n", NULL, NULL),
            "clone.masterPassword: managed does not apply with clone.enableIAMAuth");

    ck_ok(load_with("  restoreFrom: latest\n", NULL, NULL, NULL));
    ck_assert_int_eq(cfg.source.restore_from, RESTORE_LATEST);
    ck_ok(load_with("  restoreFrom: 2026-11-26T02:00:00Z\n", NULL, NULL, NULL));
    ck_assert_int_eq(cfg.source.restore_from, RESTORE_TIME);
    ck_assert_int_eq(cfg.source.restore_time, 1795658400);
    char buf[32];
    ck_assert_str_eq(restore_from_name(&cfg, buf, sizeof buf), "2026-11-26T02:00:00Z");
    ck_ok(load_with("  restoreFrom: 2026-11-26T04:00:00+02:00\n", NULL, NULL, NULL));
    ck_assert_int_eq(cfg.source.restore_time, 1795658400);
    ck_fail(load_with("  restoreFrom: yesterday\n", NULL, NULL, NULL),
            "c.yaml:4:16: source.restoreFrom: \"yesterday\" is neither snapshot, latest nor an "
            "RFC 3339 time");
    ck_fail(load_with("  restoreFrom: 2026-11-26\n", NULL, NULL, NULL), "RFC 3339");
    ck_fail(load_with("  restoreFrom: latest\n  snapshotIdentifier: rds:x\n", NULL, NULL, NULL),
            "source.restoreFrom: a point-in-time restore names no snapshot");
    ck_ok(load_with(NULL, "  copyOnWrite: false\n", NULL, NULL)); /* ignored for rds, warned */
    ck_fail(load("source:\n  type: aurora-cluster\n  identifier: a\n  restoreFrom: latest\n"
                 "clone:\n  instanceClass: db.r6g.large\n  engineVersion: \"16.4\"\n"
                 "dblab:\n  apiEndpoint: https://d\n  token: t\naws:\n  region: us-east-1\n"),
            "clone.engineVersion: a point-in-time clone runs the source's engine version");
    ck_fail(load("source:\n  type: aurora-cluster\n  identifier: a\n"
                 "  restoreFrom: 2026-11-26T02:00:00Z\nclone:\n  instanceClass: db.r6g.large\n"
                 "dblab:\n  apiEndpoint: https://d\n  token: t\naws:\n  region: us-east-1\n"),
            "Aurora restores a copy-on-write clone only at the latest restorable time");
    ck_ok(load("source:\n  type: aurora-cluster\n  identifier: a\n"
               "  restoreFrom: 2026-11-26T02:00:00Z\nclone:\n  instanceClass: db.r6g.large\n"
               "  copyOnWrite: false\n"
               "dblab:\n  apiEndpoint: https://d\n  token: t\naws:\n  region: us-east-1\n"));
    ck_assert_int_eq(cfg.clone.copy_on_write, 0);
}
END_TEST

/* The Go original: deletionProtection is set on the clone at restore, and its
 * delete turns it off first (rds.go deleteRDSInstance / deleteAuroraCluster). */
START_TEST(deletion_protection_go_meaning)
{
    ck_ok(load_with(NULL, "  deletionProtection: true\n", NULL, NULL));
    ck_assert_int_eq(cfg.clone.deletion_protection, 1);
    ck_ok(load_with(NULL, "  deletionProtection: false\n", NULL, NULL));
    ck_assert_int_eq(cfg.clone.deletion_protection, 0);
    ck_fail(load_with(NULL, "  deletionProtection: sometimes\n", NULL, NULL),
            "clone.deletionProtection: must be true or false");
}
END_TEST

/* Keys the Go original ignores for a source type: accepted, dropped, warned. */
START_TEST(inapplicable_keys_warn)
{
    char *y =
        yaml_with(NULL, "  clusterParameterGroup: cpg\n  engineVersion: \"15.4\"\n", NULL, NULL);
    char *log = load_file_logged(y, 0600);
    ck_assert_ptr_null(cfg.clone.cluster_parameter_group);
    ck_assert_ptr_null(cfg.clone.engine_version);
    ck_assert_ptr_nonnull(strstr(log, "logged.yaml:6:26: clone.clusterParameterGroup: ignored for "
                                      "source.type rds"));
    ck_assert_ptr_nonnull(strstr(log,
                                 "logged.yaml:7:18: clone.engineVersion: ignored for source.type "
                                 "rds: RestoreDBInstanceFromDBSnapshot takes no EngineVersion"));
    free(log);
    free(y);
}
END_TEST

START_TEST(duration_values)
{
    ck_ok(load_with("  maxSnapshotAge: 7d\n", "  maxAge: 1h30m\n  waitTimeout: 90s\n",
                    "  startTimeout: 1.5h\n", NULL));
    ck_assert_int_eq(cfg.source.max_snapshot_age, 7 * 86400);
    ck_assert_int_eq(cfg.clone.max_age, 5400);
    ck_assert_int_eq(cfg.clone.wait_timeout, 90);
    ck_assert_int_eq(cfg.dblab.start_timeout, 5400);
    /* Go's SetDefaults: a zero duration is the default */
    ck_ok(load_with(NULL, "  waitTimeout: 0s\n", NULL, NULL));
    ck_assert_int_eq(cfg.clone.wait_timeout, 2 * 3600);
    ck_ok(load_with(NULL, "  maxAge: 0\n", NULL, NULL));
    ck_assert_int_eq(cfg.clone.max_age, 48 * 3600);
    /* Go's time.ParseDuration: 500ms is valid; waits count whole seconds (rounded up) */
    char *y = yaml_with(NULL, NULL, "  pollInterval: 500ms\n", NULL);
    char *log = load_file_logged(y, 0600);
    ck_assert_int_eq(cfg.dblab.poll_interval, 1);
    ck_assert_ptr_nonnull(strstr(log, "dblab.pollInterval: 500ms rounded up to 1s"));
    free(log);
    free(y);
    ck_ok(load_with(NULL, NULL, "  pollInterval: 1m30.5s\n", NULL));
    ck_assert_int_eq(cfg.dblab.poll_interval, 91);
    ck_fail(load_with(NULL, NULL, "  timeout: 30\n", NULL),
            "dblab.timeout: \"30\" is not a duration");
    ck_fail(load_with(NULL, NULL, "  pollInterval: -5s\n", NULL),
            "dblab.pollInterval: \"-5s\" is negative");
    ck_fail(load_with(NULL, NULL, "  pollInterval: 5 m\n", NULL), "is not a duration");
    ck_fail(load_with(NULL, NULL, "  pollInterval: 1w\n", NULL), "is not a duration");
    ck_fail(load_with(NULL, NULL, "  pollInterval: 5h\n  timeout: 1h\n", NULL),
            "dblab.pollInterval: longer than dblab.timeout");
}
END_TEST

START_TEST(max_attempts)
{
    ck_ok(load_with(NULL, NULL, NULL, "  maxAttempts: 20\n"));
    ck_assert_int_eq(cfg.aws.max_attempts, 20);
    ck_fail(load_with(NULL, NULL, NULL, "  maxAttempts: 0\n"),
            "c.yaml:11:16: aws.maxAttempts: must be an integer 1-20, got \"0\"");
    ck_fail(load_with(NULL, NULL, NULL, "  maxAttempts: 21\n"), "1-20");
    ck_fail(load_with(NULL, NULL, NULL, "  maxAttempts: many\n"), "1-20");
    setenv("AWS_MAX_ATTEMPTS", "5", 1);
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    ck_assert_int_eq(cfg.aws.max_attempts, 5);
    ck_assert_str_eq(cfg.aws.max_attempts_source, "AWS_MAX_ATTEMPTS");
    ck_ok(load_with(NULL, NULL, NULL, "  maxAttempts: 2\n"));
    ck_assert_int_eq(cfg.aws.max_attempts, 2);
    setenv("AWS_MAX_ATTEMPTS", "50", 1);
    ck_fail(load_with(NULL, NULL, NULL, NULL),
            "c.yaml: AWS_MAX_ATTEMPTS: must be an integer 1-20, got \"50\"");
    unsetenv("AWS_MAX_ATTEMPTS");
    char *p = tmp_write(dir, "awsconfig", "[default]\nmax_attempts = 4\n");
    setenv("AWS_CONFIG_FILE", p, 1);
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    ck_assert_int_eq(cfg.aws.max_attempts, 4);
    free(p);
}
END_TEST

START_TEST(parallel_jobs)
{
    ck_ok(load_with(NULL, NULL, "  dumpParallelJobs: 1\n  restoreParallelJobs: AUTO\n", NULL));
    ck_assert_int_eq(cfg.dblab.dump_parallel_jobs, 1);
    ck_assert_int_eq(cfg.dblab.restore_parallel_jobs, PARALLEL_AUTO);
    ck_fail(load_with(NULL, NULL, "  dumpParallelJobs: 0\n", NULL),
            "dblab.dumpParallelJobs: must be an integer 1-1024 or \"auto\", got \"0\"");
    ck_fail(load_with(NULL, NULL, "  restoreParallelJobs: lots\n", NULL),
            "dblab.restoreParallelJobs");
}
END_TEST

START_TEST(urls)
{
    ck_ok(load(
        "source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
        "dblab:\n  apiEndpoint: https://[::1]:2345/\n  token: t\naws:\n  region: us-east-1\n"));
    ck_assert_str_eq(cfg.dblab.api_endpoint, "https://[::1]:2345");
    ck_ok(load_with(NULL, NULL, NULL, "  endpoint: https://rds.us-east-1.amazonaws.com\n"));
    ck_assert_str_eq(cfg.aws.endpoint, "https://rds.us-east-1.amazonaws.com");
    /* the template's dblab.apiEndpoint is on line 9; a second one is a duplicate */
    ck_fail(
        load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
             "dblab:\n  apiEndpoint: ftp://dblab\n  token: t\naws:\n  region: us-east-1\n"),
        "c.yaml:7:16: dblab.apiEndpoint: must be an http:// or https:// URL, got \"ftp://dblab\"");
    ck_fail(
        load(
            "source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
            "dblab:\n  apiEndpoint: dblab.example.com:2345\n  token: t\naws:\n  region: us-east-1\n"),
        "must be an http:// or https:// URL");
    ck_fail(load_with(NULL, NULL, NULL, "  endpoint: https://\n"), "aws.endpoint: URL has no host");
    ck_fail(load_with(NULL, NULL, NULL, "  endpoint: http://h:0\n"),
            "URL port must be a number 1-65535");
    ck_fail(load_with(NULL, NULL, NULL, "  endpoint: http://h:99999/\n"),
            "URL port must be a number 1-65535");
    ck_fail(load_with(NULL, NULL, NULL, "  endpoint: http://user:pw@h/\n"),
            "must not contain credentials");
    ck_fail(load_with(NULL, NULL, NULL, "  endpoint: \"http://h /x\"\n"),
            "must not contain blanks");
}
END_TEST

START_TEST(strings_and_classes)
{
    ck_fail(load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: t3.medium\n"),
            "c.yaml:5:18: clone.instanceClass: \"t3.medium\" is not an RDS instance class");
    /* DB subnet group names may contain spaces; parameter group names may not */
    ck_ok(load_with(NULL, "  subnetGroup: \"my subnets\"\n", NULL, NULL));
    ck_assert_str_eq(cfg.clone.subnet_group, "my subnets");
    ck_fail(load_with(NULL, "  subnetGroup: \"a\\tb\"\n", NULL, NULL),
            "clone.subnetGroup: must not contain control characters");
    ck_fail(load_with(NULL, "  parameterGroup: \"two words\"\n", NULL, NULL),
            "clone.parameterGroup: must not contain blanks");
    static const char *const bad_ids[] = {"prod_db", "1db", "a--b", "db-", "'x y'", NULL};
    for (size_t i = 0; bad_ids[i] != NULL; i++) {
        char *y = NULL;
        ck_assert_int_ge(asprintf(&y, "source:\n  type: rds\n  identifier: %s\n", bad_ids[i]), 0);
        ck_fail(load(y), "source.identifier:");
        ck_assert_ptr_nonnull(strstr(e.msg, "is not an RDS identifier"));
        free(y);
    }
    char long_id[80];
    memset(long_id, 'a', 64);
    long_id[64] = '\0';
    char *y = NULL;
    ck_assert_int_ge(asprintf(&y, "source:\n  type: rds\n  identifier: %s\n", long_id), 0);
    ck_fail(load(y), "is not an RDS identifier");
    free(y);
    ck_ok(
        load("source:\n  type: rds\n  identifier: Prod-DB-2\nclone:\n  instanceClass: db.t3.small\n"
             "dblab:\n  apiEndpoint: https://h\n  token: t\naws:\n  region: us-east-1\n"));
    ck_fail(load_with(NULL, NULL, "  caCert: /nonexistent/drr/ca.pem\n", NULL),
            "dblab.caCert: cannot read /nonexistent/drr/ca.pem: No such file or directory");
    /* a password alone is fine: the engine may already have the user name */
    ck_ok(load_with("  password: pw-secret\n", NULL, NULL, NULL));
    ck_assert_str_eq(cfg.source.password, "pw-secret");
    ck_fail(load("aws:\n  region: US East\n"), "c.yaml:2:11: aws.region: must not contain blanks");
    ck_fail(load("aws:\n  region: useast1\n"), "not an AWS region name");
}
END_TEST

START_TEST(relative_paths)
{
    char *ca = tmp_write(dir, "ca.pem", "pem\n");
    char *y = yaml_with(NULL, NULL, "  caCert: ca.pem\n", NULL);
    char *p = tmp_write(dir, "c.yaml", y);
    chmod(p, 0600); /* no "readable by others" warning in the test output */
    ck_ok(config_load(p, &cfg, &e));
    ck_assert_str_eq(cfg.dblab.ca_cert, ca); /* relative to the config file's directory */
    config_release(&cfg);
    free(y);
    y = yaml_with(NULL, NULL, "  caCert: other.pem\n", NULL);
    free(p);
    p = tmp_write(dir, "c.yaml", y);
    ck_assert_int_eq(config_load(p, &cfg, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "dblab.caCert: cannot read "));
    ck_assert_ptr_nonnull(strstr(e.msg, "/other.pem: No such file or directory"));
    ck_assert_ptr_nonnull(strstr(e.msg, dir));
    free(y);
    free(p);
    free(ca);
}
END_TEST

/* Loads file path (mode given) capturing the log; returns the log text. */
static char *load_file_logged(const char *yaml, mode_t mode)
{
    char *p = tmp_write(dir, "logged.yaml", yaml);
    chmod(p, mode);
    char *logp = NULL;
    ck_assert_int_ge(asprintf(&logp, "%s/log.txt", dir), 0);
    FILE *lf = fopen(logp, "w+");
    log_set_stream(lf);
    config_release(&cfg);
    ck_ok(config_load(p, &cfg, &e));
    log_set_stream(NULL);
    fflush(lf);
    rewind(lf);
    char *text = calloc(1, 4096);
    size_t n = fread(text, 1, 4095, lf);
    text[n] = '\0';
    fclose(lf);
    free(logp);
    free(p);
    return text;
}

START_TEST(warnings)
{
    char *y = yaml_with(NULL, NULL, NULL, NULL);
    char *log = load_file_logged(y, 0644);
    ck_assert_ptr_nonnull(
        strstr(log, "holds a literal dblab.token and is readable by others (mode 0644)"));
    free(log);
    log = load_file_logged(y, 0600);
    ck_assert_ptr_null(strstr(log, "readable by others"));
    free(log);
    free(y);
    /* from the environment or a reference: nothing to warn about */
    setenv("DBLAB_TOKEN", "env-token-1234", 1);
    y = yaml_with(NULL, NULL, NULL, NULL);
    char *y2 = NULL;
    ck_assert_int_ge(asprintf(&y2, "%s", y), 0);
    char *t = strstr(y2, "tok-secret-value");
    memcpy(t, "${DBLAB_TOKEN}  ", 16);
    log = load_file_logged(y2, 0644);
    ck_assert_ptr_null(strstr(log, "readable by others"));
    ck_assert_str_eq(cfg.dblab.token, "env-token-1234"); /* plain scalars are trimmed */
    free(log);
    free(y2);
    free(y);
    y = yaml_with("  username: u\n  password: literal-password\n", NULL, "  insecure: true\n",
                  NULL);
    char *ty = strstr(y, "tok-secret-value");
    memcpy(ty, "ssm:/a/b/c/d/e/f", 16);
    log = load_file_logged(y, 0640);
    ck_assert_ptr_nonnull(strstr(log, "holds a literal source.password"));
    ck_assert_ptr_nonnull(strstr(log, "dblab.insecure is true"));
    free(log);
    free(y);
}
END_TEST

START_TEST(pipeline_name)
{
    /* default: the source identifier, lower case */
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    ck_assert_str_eq(cfg.clone.pipeline, "production-db");
    ck_ok(load(
        "source:\n  type: rds\n  identifier: Production-DB\nclone:\n  instanceClass: db.t3.medium\n"
        "dblab:\n  apiEndpoint: https://d.example.com\n  token: t\naws:\n  region: us-east-1\n"));
    ck_assert_str_eq(cfg.clone.pipeline, "production-db");
    ck_ok(load_with(NULL, "  pipeline: nightly-billing\n", NULL, NULL));
    ck_assert_str_eq(cfg.clone.pipeline, "nightly-billing");
    setenv("DRR_TEST_VAR", "from-env", 1);
    ck_ok(load_with(NULL, "  pipeline: ${DRR_TEST_VAR}\n", NULL, NULL));
    ck_assert_str_eq(cfg.clone.pipeline, "from-env");
    /* one line naming the key, with the file position */
    ck_fail(load_with(NULL, "  pipeline: Nightly\n", NULL, NULL),
            "c.yaml:6:13: clone.pipeline: \"Nightly\" is not a pipeline name");
    ck_fail(load_with(NULL, "  pipeline: a--b\n", NULL, NULL), "clone.pipeline:");
    ck_fail(load_with(NULL, "  pipeline: a_b\n", NULL, NULL), "clone.pipeline:");
    ck_fail(load_with(NULL, "  pipeline: 9lives\n", NULL, NULL), "clone.pipeline:");
    ck_fail(load_with(NULL, "  pipeline: [a]\n", NULL, NULL), "clone.pipeline:");
    ck_fail(
        load_with(NULL,
                  "  pipeline: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                  NULL, NULL),
        "1-63");
    /* the effective configuration shows it */
    ck_ok(load_with(NULL, "  pipeline: nightly\n", NULL, NULL));
    cJSON *j = config_to_json(&cfg);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "clone");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c, "pipeline")->valuestring, "nightly");
    cJSON_Delete(j);
}
END_TEST

START_TEST(tags)
{
    ck_fail(load_with(NULL, "  tags: [a, b]\n", NULL, NULL),
            "clone.tags: must be a mapping of tag names to values, got a list");
    ck_fail(load_with(NULL, "  tags:\n    aws:foo: x\n", NULL, NULL),
            "clone.tags.aws:foo: reserved tag name");
    ck_fail(load_with(NULL, "  tags:\n    ManagedBy: me\n", NULL, NULL),
            "clone.tags.ManagedBy: reserved tag name");
    ck_fail(load_with(NULL, "  tags:\n    a: [1]\n", NULL, NULL),
            "clone.tags.a: tag value must be a single value");
    /* a user tag cannot claim another pipeline or run */
    ck_fail(load_with(NULL, "  tags:\n    dblab-rds-refresh:pipeline: billing-db\n", NULL, NULL),
            "clone.tags.dblab-rds-refresh:pipeline: reserved tag name");
    setenv("DRR_TEST_VAR", "from-env", 1);
    ck_ok(load_with(NULL, "  tags:\n    owner: ${DRR_TEST_VAR}\n", NULL, NULL));
    ck_assert_str_eq(cfg.clone.tags[0].value, "from-env");
}
END_TEST

/* ---- secrets ---------------------------------------------------------- */

START_TEST(secret_references)
{
    ck_assert_int_eq(config_is_secret_reference("secretsmanager:x"), 1);
    ck_assert_int_eq(config_is_secret_reference("ssm:/a/b"), 1);
    ck_assert_int_eq(config_is_secret_reference("plain-token"), 0);
    ck_assert_int_eq(config_is_secret_reference(NULL), 0);
    ck_ok(load_with("  username: u\n  password: ssm:/prod/db/password\n", NULL, NULL, NULL));
    ck_assert_str_eq(cfg.source.password, "ssm:/prod/db/password");
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    ck_fail(
        load(
            "source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
            "dblab:\n  apiEndpoint: https://h\n  token: \"secretsmanager:\"\naws:\n  region: us-east-1\n"),
        "dblab.token: secret reference must be secretsmanager:NAME_OR_ARN[#jsonKey]");
    ck_fail(
        load(
            "source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
            "dblab:\n  apiEndpoint: https://h\n  token: \"secretsmanager:a#\"\naws:\n  region: us-east-1\n"),
        "empty #jsonKey");
    ck_fail(load_with("  username: u\n  password: \"ssm:\"\n", NULL, NULL, NULL),
            "source.password: secret reference must be ssm:/PARAMETER/PATH");
}
END_TEST

START_TEST(json_redacts_secrets)
{
    ck_ok(load_with("  username: u\n  password: hunter2-password\n", NULL, NULL, NULL));
    cJSON *j = config_to_json(&cfg);
    char *text = cJSON_PrintUnformatted(j);
    ck_assert_ptr_null(strstr(text, "hunter2-password"));
    ck_assert_ptr_null(strstr(text, "tok-secret-value"));
    cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "dblab");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "token")->valuestring, "[REDACTED]");
    cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "source");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(s, "password")->valuestring, "[REDACTED]");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(s, "type")->valuestring, "rds");
    cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "clone");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c, "maxAge")->valuestring, "2d");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(c, "maxAgeSeconds")->valueint, 172800);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c, "publiclyAccessible")));
    cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "aws");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(a, "maxAttempts")->valueint, 8);
    cJSON_free(text);
    cJSON_Delete(j);

    /* a reference is shown as written: it names the secret, it is not one */
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    config_release(&cfg);
    ck_ok(load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
               "dblab:\n  apiEndpoint: https://h\n  token: secretsmanager:dblab/token\n"
               "  dumpParallelJobs: auto\naws:\n  region: us-east-1\n"));
    j = config_to_json(&cfg);
    d = cJSON_GetObjectItemCaseSensitive(j, "dblab");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "token")->valuestring,
                     "secretsmanager:dblab/token");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "dumpParallelJobs")->valuestring, "auto");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "restoreParallelJobs")));
    s = cJSON_GetObjectItemCaseSensitive(j, "source");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(s, "password")));
    cJSON_Delete(j);
}
END_TEST

/* ---- environment ------------------------------------------------------ */

START_TEST(env_expansion_in_config)
{
    setenv("DBLAB_TOKEN", "token-from-env", 1);
    ck_ok(load(
        "source:\n  type: ${DRR_TEST_VAR:-rds}\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
        "dblab:\n  apiEndpoint: https://h\n  token: ${DBLAB_TOKEN}\naws:\n  region: us-east-1\n"));
    ck_assert_str_eq(cfg.dblab.token, "token-from-env");
    ck_assert_int_eq(cfg.source.type, SOURCE_RDS);
    unsetenv("DBLAB_TOKEN");
    ck_fail(
        load(
            "source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
            "dblab:\n  apiEndpoint: https://h\n  token: ${DBLAB_TOKEN}\naws:\n  region: us-east-1\n"),
        "c.yaml:8:10: dblab.token: environment variable DBLAB_TOKEN is not set");
    /* an unset variable without default is an error even in optional keys */
    ck_fail(load_with("  dbName: ${DRR_TEST_VAR}\n", NULL, NULL, NULL),
            "source.dbName: environment variable DRR_TEST_VAR is not set");
    ck_fail(load_with("  dbName: ${1BAD}\n", NULL, NULL, NULL),
            "invalid variable reference \"${1BAD}\"");
    ck_fail(load_with("  dbName: \"${OPEN\"\n", NULL, NULL, NULL), "unterminated \"${\"");
    ck_ok(load_with("  dbName: a$$b\n", NULL, NULL, NULL));
    ck_assert_str_eq(cfg.source.db_name, "a$b");
    /* issue 17: $VAR without braces, as Go's os.ExpandEnv (the Go original
     * expands its whole config file); unset stays an error, not "" */
    setenv("DBLAB_TOKEN", "token-bare", 1);
    ck_ok(load(
        "source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
        "dblab:\n  apiEndpoint: https://h\n  token: $DBLAB_TOKEN\naws:\n  region: us-east-1\n"));
    ck_assert_str_eq(cfg.dblab.token, "token-bare");
    unsetenv("DBLAB_TOKEN");
    ck_fail(
        load(
            "source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
            "dblab:\n  apiEndpoint: https://h\n  token: $DBLAB_TOKEN\naws:\n  region: us-east-1\n"),
        "c.yaml:8:10: dblab.token: environment variable DBLAB_TOKEN is not set");
    ck_fail(
        load_with("  dbName: pa$word\n", NULL, NULL, NULL),
        "source.dbName: environment variable word is not set (set it, or write ${word:-default}; "
        "$$ is a literal '$')");
    /* a set-but-empty variable in a required key */
    setenv("DBLAB_TOKEN", "", 1);
    ck_fail(
        load(
            "source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
            "dblab:\n  apiEndpoint: https://h\n  token: ${DBLAB_TOKEN}\naws:\n  region: us-east-1\n"),
        "dblab.token: required");
}
END_TEST

START_TEST(env_expand_function)
{
    char *out, *missing;
    setenv("DRR_TEST_VAR", "value", 1);
    setenv("DRR_TEST_EMPTY", "", 1);
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"${DRR_TEST_VAR}", "value"},
        {"a-${DRR_TEST_VAR}-b", "a-value-b"},
        {"${DRR_TEST_VAR}${DRR_TEST_VAR}", "valuevalue"},
        {"${DRR_TEST_UNSET:-fallback}", "fallback"},
        {"${DRR_TEST_EMPTY:-fallback}", "fallback"},
        {"${DRR_TEST_EMPTY}", ""},
        {"${DRR_TEST_VAR:-fallback}", "value"},
        {"${DRR_TEST_UNSET:-}", ""},
        {"${DRR_TEST_UNSET:-a:-b}", "a:-b"},
        {"$$", "$"},
        {"$${DRR_TEST_VAR}", "${DRR_TEST_VAR}"},
        {"pa$$word$", "pa$word$"},
        {"$DRR_TEST_VAR", "value"},
        {"$DRR_TEST_VAR-x.$DRR_TEST_VAR", "value-x.value"},
        {"a $ b", "a $ b"},
        {"${DRR_TEST_UNSET:-$HOME}", "$HOME"}, /* a default is literal */
        {"$", "$"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_msg(env_expand(cases[i].in, &out, &missing) == 0, "case %s", cases[i].in);
        ck_assert_str_eq(out, cases[i].out);
        ck_assert_ptr_null(missing);
        free(out);
    }
    ck_assert_int_eq(env_expand("x${DRR_TEST_UNSET}y", &out, &missing), -1);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(missing, "DRR_TEST_UNSET");
    free(missing);
    ck_assert_int_eq(env_expand("${A-B}", &out, &missing), -2);
    ck_assert_ptr_nonnull(strstr(missing, "invalid variable reference"));
    free(missing);
    ck_assert_int_eq(env_expand("${}", &out, &missing), -2);
    free(missing);
    ck_assert_int_eq(env_expand("${ABC", &out, &missing), -2);
    free(missing);
    ck_assert_int_eq(env_expand("${DRR_TEST_UNSET}", &out, NULL), -1);
    /* values are not expanded twice */
    setenv("DRR_TEST_VAR", "${DRR_TEST_UNSET}", 1);
    ck_assert_int_eq(env_expand("${DRR_TEST_VAR}", &out, &missing), 0);
    ck_assert_str_eq(out, "${DRR_TEST_UNSET}");
    free(out);
}
END_TEST

/* Go's expand tests (src/os/env_test.go, expandTests and testGetenv), through
 * env_expand_with and the same mapping. testGetenv returns "" for any other
 * name; here such a name is unset, which is an error -- Go's cases that rely
 * on it are listed below with this project's answer. */
static const char *go_test_getenv(const char *s, void *ctx)
{
    (void)ctx;
    static const char *const vars[][2] = {
        {"*", "all the args"},   {"#", "NARGS"},        {"$", "PID"},           {"1", "ARGUMENT1"},
        {"HOME", "/usr/gopher"}, {"H", "(Value of H)"}, {"home_1", "/usr/foo"}, {"_", "underscore"},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strcmp(s, vars[i][0]) == 0)
            return vars[i][1];
    return NULL;
}

START_TEST(env_expand_go_cases)
{
    /* Go's expandTests where this project gives Go's answer. */
    static const struct {
        const char *in, *out;
    } same[] = {
        {"", ""},
        {"$*", "all the args"},
        {"${*}", "all the args"},
        {"$1", "ARGUMENT1"},
        {"${1}", "ARGUMENT1"},
        {"now is the time", "now is the time"},
        {"$HOME", "/usr/gopher"},
        {"$home_1", "/usr/foo"},
        {"${HOME}", "/usr/gopher"},
        {"${H}OME", "(Value of H)OME"},
        {"start$+middle$^end$", "start$+middle$^end$"},
        {"$", "$"},
        {"$}", "$}"},
        /* not in Go's table, same rules: */
        {"$_", "underscore"},
        {"$1abc", "ARGUMENT1abc"}, /* a digit is a one-character name */
        {"$#", "NARGS"},
        {"${#}", "NARGS"},
    };
    /* Go's expandTests where this project differs on purpose: "$$" is a
     * literal '$' (Go: the variable "$"). */
    static const struct {
        const char *in, *out;
    } differ[] = {
        {"$$", "$"}, /* Go: PID */
        {"A$$$#$1$H$home_1*B", "A$NARGSARGUMENT1(Value of H)/usr/foo*B"},
        /* Go: APIDNARGSARGUMENT1(Value of H)/usr/foo*B */
        {"mixed$|bag$$$", "mixed$|bag$$"}, /* Go: mixed$|bagPID$ */
    };
    char *out, *missing;
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        ck_assert_msg(env_expand_with(same[i].in, go_test_getenv, NULL, &out, &missing, NULL) == 0,
                      "case %s", same[i].in);
        ck_assert_msg(strcmp(out, same[i].out) == 0, "%s -> %s, want %s", same[i].in, out,
                      same[i].out);
        free(out);
    }
    for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
        ck_assert_int_eq(env_expand_with(differ[i].in, go_test_getenv, NULL, &out, &missing, NULL),
                         0);
        ck_assert_msg(strcmp(out, differ[i].out) == 0, "%s -> %s, want %s", differ[i].in, out,
                      differ[i].out);
        free(out);
    }
    /* Go eats "${" and "${}" (invalid syntax); here both are errors. */
    ck_assert_int_eq(env_expand_with("${", go_test_getenv, NULL, &out, &missing, NULL), -2);
    ck_assert_ptr_nonnull(strstr(missing, "unterminated"));
    free(missing);
    ck_assert_int_eq(env_expand_with("${}", go_test_getenv, NULL, &out, &missing, NULL), -2);
    ck_assert_ptr_nonnull(strstr(missing, "invalid variable reference \"${}\""));
    free(missing);
    /* Go gives "" for an unset name; here it is an error naming it. */
    ck_assert_int_eq(env_expand_with("pa$word", go_test_getenv, NULL, &out, &missing, NULL), -1);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(missing, "word");
    free(missing);
    ck_assert_int_eq(env_expand_with("x$2", go_test_getenv, NULL, &out, &missing, NULL), -1);
    ck_assert_str_eq(missing, "2");
    free(missing);
    int refs = -1;
    ck_assert_int_eq(env_expand_with("$$ and ${1:-d} $H", go_test_getenv, NULL, &out, NULL, &refs),
                     0);
    ck_assert_str_eq(out, "$ and ARGUMENT1 (Value of H)");
    ck_assert_int_eq(refs, 2);
    free(out);
    ck_assert_int_eq(env_has_reference("pa$$word"), 0);
    ck_assert_int_eq(env_has_reference("$DRR_TEST_UNSET_X"), 1);
}
END_TEST

START_TEST(region_resolution)
{
    static const char *no_region =
        "source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
        "dblab:\n  apiEndpoint: https://h\n  token: t\n";
    char *p = tmp_write(dir, "awsconfig",
                        "[default]\nregion = ap-southeast-2\n"
                        "[profile other]\nregion = sa-east-1\n");
    setenv("AWS_CONFIG_FILE", p, 1);
    ck_ok(load(no_region));
    ck_assert_str_eq(cfg.aws.region, "ap-southeast-2");
    ck_assert_str_eq(cfg.aws.region_source, "AWS config file (profile region)");
    setenv("AWS_PROFILE", "other", 1);
    ck_ok(load(no_region));
    ck_assert_str_eq(cfg.aws.region, "sa-east-1");
    ck_assert_str_eq(cfg.aws.profile, "other");
    setenv("AWS_DEFAULT_REGION", "eu-north-1", 1);
    ck_ok(load(no_region));
    ck_assert_str_eq(cfg.aws.region, "eu-north-1");
    ck_assert_str_eq(cfg.aws.region_source, "AWS_DEFAULT_REGION");
    setenv("AWS_REGION", "eu-south-1", 1);
    ck_ok(load(no_region));
    ck_assert_str_eq(cfg.aws.region, "eu-south-1");
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    ck_assert_str_eq(cfg.aws.region, "us-east-1");
    setenv("AWS_REGION", "Not A Region", 1);
    ck_fail(load(no_region), "c.yaml: AWS_REGION: \"Not A Region\" is not an AWS region name");
    free(p);
}
END_TEST

START_TEST(profile_checks)
{
    char *p = tmp_write(dir, "awsconfig", "[profile exists]\nregion = us-west-2\n");
    setenv("AWS_CONFIG_FILE", p, 1);
    ck_ok(load("source:\n  type: rds\n  identifier: x\nclone:\n  instanceClass: db.t3.small\n"
               "dblab:\n  apiEndpoint: https://h\n  token: t\naws:\n  profile: exists\n"));
    ck_assert_str_eq(cfg.aws.region, "us-west-2");
    ck_fail(load_with(NULL, NULL, NULL, "  profile: missing\n"),
            "c.yaml:11:12: aws.profile: profile \"missing\" not found");
    free(p);
}
END_TEST

START_TEST(endpoint_resolution)
{
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1111", 1);
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    ck_assert_str_eq(cfg.aws.endpoint, "http://127.0.0.1:1111");
    ck_assert_str_eq(cfg.aws.endpoint_source, "AWS_ENDPOINT_URL");
    setenv("AWS_ENDPOINT_URL_RDS", "http://127.0.0.1:2222/", 1);
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    ck_assert_str_eq(cfg.aws.endpoint, "http://127.0.0.1:2222");
    ck_ok(load_with(NULL, NULL, NULL, "  endpoint: http://127.0.0.1:3333\n"));
    ck_assert_str_eq(cfg.aws.endpoint, "http://127.0.0.1:3333");
    ck_assert_str_eq(cfg.aws.endpoint_source, "aws.endpoint");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    ck_assert_ptr_null(cfg.aws.endpoint);
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    setenv("AWS_ENDPOINT_URL_RDS", "localhost:4566", 1);
    ck_fail(load_with(NULL, NULL, NULL, NULL),
            "c.yaml: AWS_ENDPOINT_URL_RDS: must be an http:// or https:// URL");
    unsetenv("AWS_ENDPOINT_URL_RDS");
    unsetenv("AWS_ENDPOINT_URL");

    /* the AWS config file: services section, then AWS_ENDPOINT_URL, then endpoint_url */
    char *p = tmp_write(dir, "awsconfig",
                        "[default]\nservices = emu\nendpoint_url = http://127.0.0.1:5555\n"
                        "[services emu]\nrds =\n  endpoint_url = http://127.0.0.1:4444\n"
                        "[profile plain]\nendpoint_url = http://127.0.0.1:6666\n"
                        "[profile ignoring]\nendpoint_url = http://127.0.0.1:6666\n"
                        "ignore_configured_endpoint_urls = true\n"
                        "[profile broken]\nendpoint_url = nope\n");
    setenv("AWS_CONFIG_FILE", p, 1);
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    ck_assert_str_eq(cfg.aws.endpoint, "http://127.0.0.1:4444");
    ck_assert_str_eq(cfg.aws.endpoint_source, "AWS config file (services rds endpoint_url)");
    setenv("AWS_ENDPOINT_URL_RDS", "http://127.0.0.1:2222", 1);
    ck_ok(load_with(NULL, NULL, NULL, NULL));
    ck_assert_str_eq(cfg.aws.endpoint, "http://127.0.0.1:2222");
    unsetenv("AWS_ENDPOINT_URL_RDS");
    ck_ok(load_with(NULL, NULL, NULL, "  profile: plain\n"));
    ck_assert_str_eq(cfg.aws.endpoint, "http://127.0.0.1:6666");
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1111", 1);
    ck_ok(load_with(NULL, NULL, NULL, "  profile: plain\n"));
    ck_assert_str_eq(cfg.aws.endpoint, "http://127.0.0.1:1111");
    unsetenv("AWS_ENDPOINT_URL");
    ck_ok(load_with(NULL, NULL, NULL, "  profile: ignoring\n"));
    ck_assert_ptr_null(cfg.aws.endpoint);
    ck_fail(
        load_with(NULL, NULL, NULL, "  profile: broken\n"),
        "c.yaml: AWS config file (profile endpoint_url): must be an http:// or https:// URL, got \"nope\"");
    free(p);
}
END_TEST

/* ---- durations and suggestions ---------------------------------------- */

START_TEST(duration_parse_table)
{
    static const struct {
        const char *in;
        int64_t secs;
    } ok[] = {
        {"1s", 1},
        {"90s", 90},
        {"30m", 1800},
        {"4h", 14400},
        {"1h30m", 5400},
        {"7d", 604800},
        {"2d12h", 216000},
        {"1.5h", 5400},
        {"0.5m", 30},
        {"1h0m", 3600},
        {"30m1h", 5400},
        {"36500d", 36500LL * 86400},
        /* Go syntax, rounded up to whole seconds */
        {"500ms", 1},
        {"0.5s", 1},
        {"1500ms", 2},
        {"1ns", 1},
        {"+90s", 90},
        {"2m3.4s", 124},
        {".5m", 30},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v = -1;
        ck_assert_msg(duration_parse(ok[i].in, &v) == 0, "%s", ok[i].in);
        ck_assert_msg(v == ok[i].secs, "%s: %lld", ok[i].in, (long long)v);
    }
    static const char *const bad[] = {"",
                                      "0",
                                      "0s",
                                      "5",
                                      "s",
                                      "1x",
                                      "1w",
                                      "-0.5s",
                                      "1.5",
                                      "-1h",
                                      "1h-",
                                      " 1h",
                                      "1h ",
                                      "h1",
                                      "1..5h",
                                      "36501d",
                                      "99999999999999999999s",
                                      ".s",
                                      NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        int64_t v = 42;
        ck_assert_msg(duration_parse(bad[i], &v) == -1, "'%s' accepted", bad[i]);
        ck_assert_int_eq(v, 42);
    }
    ck_assert_int_eq(duration_parse(NULL, NULL), -1);
}
END_TEST

START_TEST(duration_format_table)
{
    static const struct {
        int64_t secs;
        const char *out;
    } cases[] = {
        {0, "0s"},     {1, "1s"},     {90, "1m30s"},       {5400, "1h30m"},
        {14400, "4h"}, {86400, "1d"}, {90061, "1d1h1m1s"}, {172800, "2d"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        duration_format(cases[i].secs, buf, sizeof buf);
        ck_assert_str_eq(buf, cases[i].out);
        int64_t back;
        if (cases[i].secs > 0) {
            ck_assert_int_eq(duration_parse(buf, &back), 0);
            ck_assert_int_eq(back, cases[i].secs);
        }
    }
    char tiny[4];
    duration_format(90061, tiny, sizeof tiny);
    ck_assert_uint_lt(strlen(tiny), sizeof tiny);
}
END_TEST

START_TEST(suggestions)
{
    ck_assert_uint_eq(suggest_distance("instanceClas", "instanceClass"), 1);
    ck_assert_uint_eq(suggest_distance("instance_class", "instanceClass"), 0);
    ck_assert_uint_eq(suggest_distance("rsd", "rds"), 1);
    ck_assert_uint_eq(suggest_distance("", "abc"), 3);
    static const char *const names[] = {"region", "endpoint", "profile", "maxAttempts", NULL};
    ck_assert_str_eq(suggest_closest("regoin", names), "region");
    ck_assert_str_eq(suggest_closest("max_attempts", names), "maxAttempts");
    ck_assert_ptr_null(suggest_closest("color", names));
    ck_assert_ptr_null(suggest_closest("x", names));
    ck_assert_str_eq(suggest_closest("prof", names), "profile");
    ck_assert_str_eq(suggest_closest("max", names), "maxAttempts");
    static const char *const two[] = {"maxAge", "maxAttempts", NULL};
    ck_assert_ptr_null(suggest_closest("max", two)); /* ambiguous */
}
END_TEST

/* Mutated configurations (byte flips, insertions, truncations, with a fixed
 * seed) never crash the loader: each gives 0 or 78 with one non-empty line. */
START_TEST(mutations_never_crash)
{
    char *base = yaml_with("  snapshotType: manual\n  maxSnapshotAge: 2d\n",
                           "  securityGroups: [sg-1, sg-2]\n  tags: {a: b}\n  port: 5432\n",
                           "  pollInterval: 10s\n  dumpParallelJobs: auto\n", "  maxAttempts: 3\n");
    static const char alphabet[] =
        ":-[]{}#&*!|>'\"%@`,?\n\t $\\~0123456789abcdefghijklmnopqrstuvwxyz";
    size_t len = strlen(base);
    unsigned seed = 12345;
    int valid = 0, invalid = 0;
    for (int iter = 0; iter < 3000; iter++) {
        char *m = malloc(len + 8);
        memcpy(m, base, len + 1);
        size_t mlen = len;
        int edits = 1 + (int)(rand_r(&seed) % 4);
        for (int k = 0; k < edits; k++) {
            size_t pos = (size_t)rand_r(&seed) % mlen;
            char c = alphabet[(size_t)rand_r(&seed) % (sizeof alphabet - 1)];
            switch (rand_r(&seed) % 4) {
            case 0:
                m[pos] = c;
                break; /* flip */
            case 1:
                memmove(m + pos + 1, m + pos, mlen - pos + 1);
                m[pos] = c;
                mlen++;
                break;
            case 2:
                memmove(m + pos, m + pos + 1, mlen - pos);
                mlen--;
                break; /* delete */
            default:
                if (k == 0) {
                    m[pos] = '\0';
                    mlen = pos > 0 ? pos : 1;
                }
                break;
            }
            if (mlen < 2)
                break;
        }
        int rc = load(m);
        ck_assert_msg(rc == 0 || rc == ERR_CONFIG, "rc %d for:\n%s", rc, m);
        if (rc == 0) {
            valid++;
        } else {
            invalid++;
            ck_assert_msg(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL, "bad message for:\n%s",
                          m);
            ck_assert_msg(strncmp(e.msg, "c.yaml", 6) == 0, "message '%s' does not name the file",
                          e.msg);
        }
        free(m);
    }
    ck_assert_int_gt(valid, 0);
    ck_assert_int_gt(invalid, 1000);
    free(base);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, minimal_defaults);
    tcase_add_test(tc, every_key);
    tcase_add_test(tc, example_files);
    tcase_add_test(tc, null_and_empty_values_are_unset);
    tcase_add_test(tc, security_groups_forms);
    tcase_add_test(tc, required_keys);
    tcase_add_test(tc, region_required);
    tcase_add_test(tc, unknown_key_suggestion);
    tcase_add_test(tc, unknown_sections);
    tcase_add_test(tc, duplicate_keys);
    tcase_add_test(tc, section_shapes);
    tcase_add_test(tc, yaml_errors);
    tcase_add_test(tc, empty_and_missing_files);
    tcase_add_test(tc, enums);
    tcase_add_test(tc, ports);
    tcase_add_test(tc, booleans);
    tcase_add_test(tc, deletion_protection_go_meaning);
    tcase_add_test(tc, inapplicable_keys_warn);
    tcase_add_test(tc, duration_values);
    tcase_add_test(tc, max_attempts);
    tcase_add_test(tc, parallel_jobs);
    tcase_add_test(tc, urls);
    tcase_add_test(tc, strings_and_classes);
    tcase_add_test(tc, tags);
    tcase_add_test(tc, relative_paths);
    tcase_add_test(tc, warnings);
    tcase_add_test(tc, pipeline_name);
    tcase_add_test(tc, secret_references);
    tcase_add_test(tc, json_redacts_secrets);
    tcase_add_test(tc, env_expansion_in_config);
    tcase_add_test(tc, env_expand_function);
    tcase_add_test(tc, env_expand_go_cases);
    tcase_add_test(tc, region_resolution);
    tcase_add_test(tc, point_in_time_and_master_password);
    tcase_add_test(tc, profile_checks);
    tcase_add_test(tc, endpoint_resolution);
    suite_add_tcase(s, tc);

    TCase *tv = tcase_create("values");
    tcase_add_test(tv, duration_parse_table);
    tcase_add_test(tv, duration_format_table);
    tcase_add_test(tv, suggestions);
    tcase_add_checked_fixture(tv, setup, teardown);
    tcase_add_test(tv, mutations_never_crash);
    tcase_add_test(tv, config_file_trust);
    tcase_add_test(tv, dblab_plain_http);
    tcase_add_test(tv, yaml_nesting_is_bounded);
    tcase_set_timeout(tv, 60);
    suite_add_tcase(s, tv);
    return s;
}

int main(void)
{
    return run_suites(config_suite(), NULL);
}
