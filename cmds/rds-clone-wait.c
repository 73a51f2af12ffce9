/* rds-clone-wait: polls until the clone is available (for Aurora the writer
 * instance AND the cluster), then adds the endpoint section.
 *
 * Polling is adaptive (clone_poll.h): 5 s at first, growing by half each poll to a
 * 30 s cap, jitter only shortening an interval, so a status change is seen within
 * 30 s. For Aurora one describe per poll follows the writer instance; the cluster
 * is described once the writer is available (and for the endpoint).
 *
 * -once: one check instead of the loop, for a scheduler that does the waiting
 * (the Step Functions state machine, deploy/sam): the same check the loop makes,
 * with the start of the wait and the not-found grace carried in the document's
 * `wait` section. Available: exit 0 with `endpoint`; not yet: exit 75 with
 * wait.status "pending"; failed: 87; past clone.waitTimeout: 82. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <fcntl.h>
#include <unistd.h>

#include "app/app.h"
#include "app/rundoc.h"
#include "app/waitline.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/signals.h"
#include "rds/clone.h"
#include "rds/clone_poll.h"
#include "rds/rds.h"
#include "rds/rds_cli.h"

enum { OPT_CHECK_CONNECT = 1000, OPT_ONCE, OPT_EXPECT };

static const struct cli_option options[] = {
    {"check-connect", no_argument, OPT_CHECK_CONNECT, NULL,
     "also check that the endpoint resolves in DNS and accepts TCP connections"},
    {"once", no_argument, OPT_ONCE, NULL,
     "check once: 0 with the endpoint when available, 75 with wait.status \"pending\" when not yet"},
    {"expect", required_argument, OPT_EXPECT, "DURATION",
     "the wait's expected duration (the driver passes the previous run's), shown with the progress"},
    {NULL, 0, 0, NULL, NULL},
};

static int check_connect;
static int once;
static int64_t expect;

static int on_option(int id, const char *arg, void *ctx, struct err *e)
{
    (void)ctx;
    if (id == OPT_EXPECT && duration_parse(arg, &expect) != 0)
        return err_set(e, ERR_USAGE, "-expect: \"%s\" is not a duration (e.g. 20m)", arg);
    if (id == OPT_CHECK_CONNECT)
        check_connect = 1;
    else if (id == OPT_ONCE)
        once = 1;
    return 0;
}

static const struct cli_command cmd = {
    .name = "rds-clone-wait",
    .summary = "wait until the clone is available and add its endpoint",
    .description =
        "Polls DescribeDBInstances (for Aurora also DescribeDBClusters) until the clone is\n"
        "available. Fails at once on a terminal state (exit 87) and after clone.waitTimeout\n"
        "(exit 82). The not-found of eventual consistency right after the create is\n"
        "tolerated for a while; throttling and transient errors are survived. With\n"
        "clone.masterPassword managed, the available clone then gets its own master\n"
        "password (ModifyDB* ManageMasterUserPassword: RDS keeps it in Secrets Manager), and\n"
        "the wait goes on through resetting-master-credentials until its secret is active.",
    .reads_document = 1,
    .needs_config = 1,
    .extra = options,
    .on_option = on_option,
};

static const char *const required[] = {"clone", NULL};

/* How long "not found" is taken for eventual consistency after the create. */
#define NOT_FOUND_GRACE    120.0
/* -check-connect: per attempt, and for how long DNS / TCP may lag "available". */
#define CONNECT_TIMEOUT_MS 5000
#define CONNECT_GRACE      120.0

static const char *const terminal_states[] = {
    "failed",
    "incompatible-restore",
    "incompatible-parameters",
    "incompatible-network",
    "incompatible-option-group",
    "storage-full",
    "inaccessible-encryption-credentials",
    "inaccessible-encryption-credentials-recoverable",
    "deleting",
    "deleted",
    "restore-error",
    NULL,
};

static int is_terminal(const char *status)
{
    for (size_t i = 0; status && terminal_states[i]; i++)
        if (strcmp(status, terminal_states[i]) == 0)
            return 1;
    return 0;
}

struct waiter {
    struct aws_ctx *aws;
    const struct config *cfg;
    enum rds_kind kind;
    const char *clone_id;  /* instance or cluster */
    const char *writer_id; /* instance polled */
    int describes;
    /* One clock for these three: monotonic in the blocking wait, the wall clock
     * with -once (the start comes from the document). */
    double now;
    double start;
    double first_not_found; /* < 0 while none */
    int managed;            /* clone.masterPassword managed */
    int secret_requested;   /* ManageMasterUserPassword was sent (or found done) */
    int secret_active;      /* of the last available describe: MasterUserSecret active */
    int has_secret;         /* ... MasterUserSecret present */
    /* result */
    char *host;
    int port;
    char *last_status;
};

static int interrupted(struct err *e)
{
    int sig = signals_pending();
    return err_interrupted(e, sig, "waiting for %s: interrupted by signal %d", "the clone", sig);
}

static void note_secret(struct waiter *w, const struct rds_master_secret *s)
{
    w->has_secret = s->arn != NULL;
    w->secret_active = s->arn && s->status && strcmp(s->status, "active") == 0;
}

/* clone.masterPassword managed, on an available clone: *ready = 1 when its own
 * master password is in place (the secret active), 0 to poll on; returns 0 or
 * the error's kind. The restore calls of the API models validated here (Debian's
 * botocore and awscli) have no ManageMasterUserPassword, so a ModifyDB* right
 * after does it. */
static int master_secret_ready(struct waiter *w, int *ready, struct err *e)
{
    *ready = w->secret_active;
    if (w->secret_active)
        return 0;
    if (w->has_secret || w->secret_requested) {
        log_info("%s %s: waiting for its master user secret to become active",
                 w->kind == RDS_KIND_CLUSTER ? "DB cluster" : "DB instance", w->clone_id);
        return 0;
    }
    struct aws_error ae;
    log_info("%s %s: giving it its own master password, kept by RDS in Secrets Manager "
             "(ManageMasterUserPassword)",
             w->kind == RDS_KIND_CLUSTER ? "DB cluster" : "DB instance", w->clone_id);
    int rc = rds_manage_master_password(w->aws, w->kind, w->clone_id, &ae, e);
    if (rc == 0) {
        w->secret_requested = 1;
        return 0;
    }
    /* A backup or another change still running: the next poll tries again. */
    if (rc == ERR_TRANSIENT || rds_error_is(&ae, "InvalidDBInstanceState") ||
        rds_error_is(&ae, "InvalidDBClusterStateFault")) {
        log_warn("%s; trying again at the next poll", e->msg);
        err_clear(e);
        return 0;
    }
    return rc;
}

/* One poll: *available = 1 (host/port set) or 0 (not yet); returns 0 or the
 * error's kind. */
static int poll_once(struct waiter *w, int *available, struct err *e)
{
    struct rds_instance inst;
    struct aws_error ae;
    *available = 0;
    w->describes++;
    int rc = rds_get_instance(w->aws, w->writer_id, &inst, &ae, e);
    if (rc == ERR_NOT_FOUND) {
        double now = w->now;
        if (w->first_not_found < 0)
            w->first_not_found = now;
        if (now - w->first_not_found > NOT_FOUND_GRACE * poll_scale())
            return err_set(e, ERR_NOT_FOUND,
                           "DB instance %s: not found for %.0f s (was it deleted?)", w->writer_id,
                           now - w->first_not_found);
        log_info("DB instance %s: not found yet (eventual consistency), still waiting",
                 w->writer_id);
        err_clear(e);
        return 0;
    }
    if (rc == ERR_TRANSIENT) {
        log_warn("%s; still waiting", e->msg);
        err_clear(e);
        return 0;
    }
    if (rc)
        return rc;
    w->first_not_found = -1;
    int result = 0;
    if (!w->last_status || strcmp(w->last_status, inst.status ? inst.status : "") != 0) {
        log_info("DB instance %s: %s (after %.0f s)", w->writer_id, inst.status ? inst.status : "?",
                 w->now - w->start);
        free(w->last_status);
        w->last_status = xstrdup(inst.status ? inst.status : "");
    }
    if (is_terminal(inst.status)) {
        result = err_set(e, ERR_CLONE_FAILED, "DB instance %s: status %s: the clone failed",
                         w->writer_id, inst.status);
    } else if (inst.status && strcmp(inst.status, "available") == 0) {
        if (w->kind == RDS_KIND_INSTANCE) {
            note_secret(w, &inst.secret);
            if (!inst.endpoint_address || inst.endpoint_port <= 0) {
                log_info("DB instance %s is available but has no endpoint yet", w->writer_id);
            } else {
                w->host = xstrdup(inst.endpoint_address);
                w->port = inst.endpoint_port;
                *available = 1;
            }
        } else {
            struct rds_cluster cl;
            w->describes++;
            rc = rds_get_cluster(w->aws, w->clone_id, &cl, &ae, e);
            if (rc == ERR_TRANSIENT || rc == ERR_NOT_FOUND) {
                log_warn("%s; still waiting", e->msg);
                err_clear(e);
            } else if (rc) {
                result = rc;
            } else if (is_terminal(cl.status)) {
                result = err_set(e, ERR_CLONE_FAILED, "DB cluster %s: status %s: the clone failed",
                                 w->clone_id, cl.status);
            } else if (cl.status && strcmp(cl.status, "available") == 0 && cl.endpoint) {
                note_secret(w, &cl.secret);
                w->host = xstrdup(cl.endpoint);
                w->port = cl.port > 0 ? cl.port : inst.endpoint_port;
                *available = 1;
            } else {
                log_info("DB cluster %s: %s, writer available", w->clone_id,
                         cl.status ? cl.status : "?");
            }
            rds_cluster_release(&cl);
        }
    }
    rds_instance_release(&inst);
    return result;
}

/* One check at w->now: *available = 1 or 0 (not yet); returns 0 or the error's
 * kind (a terminal state, not found past the grace, clone.waitTimeout). The
 * loop and -once both make exactly this check. */
static int check_once(struct waiter *w, int *available, struct err *e)
{
    int rc = poll_once(w, available, e);
    if (rc == 0 && *available && w->managed) {
        rc = master_secret_ready(w, available, e);
        if (rc == 0 && !*available) {
            free(w->host);
            w->host = NULL;
        }
    }
    if (rc || *available)
        return rc;
    int64_t timeout = w->cfg->clone.wait_timeout;
    if (w->now - w->start >= (double)timeout) {
        char tb[32];
        duration_format(timeout, tb, sizeof tb);
        return err_set(e, ERR_TIMEOUT,
                       "%s %s: not available after %s (clone.waitTimeout; last status %s)",
                       w->kind == RDS_KIND_CLUSTER ? "DB cluster" : "DB instance", w->clone_id, tb,
                       w->last_status ? w->last_status : "unknown");
    }
    return 0;
}

static int wait_available(struct waiter *w, struct err *e)
{
    struct poll_schedule ps;
    poll_init(&ps, 0);
    w->start = clock_monotonic();
    w->first_not_found = -1;
    int64_t timeout = w->cfg->clone.wait_timeout;
    struct waitline wl;
    waitline_init(&wl, "clone-wait", expect);
    for (;;) {
        if (signals_pending())
            return interrupted(e);
        w->now = clock_monotonic();
        int available = 0;
        int rc = check_once(w, &available, e);
        if (rc || available)
            return rc;
        waitline_status(&wl, w->last_status);
        double waited = clock_monotonic() - w->start;
        double d = poll_next(&ps);
        if (waited + d > (double)timeout)
            d = (double)timeout - waited + 0.01;
        if (waitline_sleep(&wl, d))
            return interrupted(e);
    }
}

/* -once: the wait's state from the document's `wait` section (absent on the
 * first check: the wait starts now). */
static int load_wait_state(const cJSON *doc, struct waiter *w, struct err *e)
{
    w->now = (double)clock_now();
    w->start = w->now;
    w->first_not_found = -1;
    const cJSON *ws = rundoc_section(doc, "wait");
    if (!ws)
        return 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ws, "startedAt");
    int64_t t;
    if (!cJSON_IsString(v) || clock_parse_rfc3339(v->valuestring, &t) != 0)
        return err_set(e, ERR_INPUT, "wait.startedAt: missing or not an RFC 3339 time");
    w->start = (double)t;
    v = cJSON_GetObjectItemCaseSensitive(ws, "notFoundSince");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsString(v) || clock_parse_rfc3339(v->valuestring, &t) != 0)
            return err_set(e, ERR_INPUT, "wait.notFoundSince: not an RFC 3339 time");
        w->first_not_found = (double)t;
    }
    v = cJSON_GetObjectItemCaseSensitive(ws, "checks");
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e9)
        w->describes = (int)v->valuedouble;
    v = cJSON_GetObjectItemCaseSensitive(ws, "lastStatus");
    if (cJSON_IsString(v))
        w->last_status = xstrdup(v->valuestring);
    return 0;
}

static void save_wait_state(cJSON *doc, const struct waiter *w, const char *status)
{
    cJSON *ws = cJSON_CreateObject();
    rds_cli_add_string(ws, "status", status);
    rds_cli_add_time(ws, "startedAt", (int64_t)w->start);
    rds_cli_add_int(ws, "checks", w->describes);
    if (w->last_status)
        rds_cli_add_string(ws, "lastStatus", w->last_status);
    if (w->first_not_found >= 0)
        rds_cli_add_time(ws, "notFoundSince", (int64_t)w->first_not_found);
    rundoc_set_section(doc, "wait", ws);
}

/* DNS and TCP: 0 when a connection was accepted. */
static int try_connect(const char *host, int port, char *why, size_t whylen)
{
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(host, ports, &hints, &res);
    if (g != 0) {
        snprintf(why, whylen, "DNS: %s", gai_strerror(g));
        return -1;
    }
    int ok = -1;
    snprintf(why, whylen, "no address");
    for (struct addrinfo *ai = res; ai && ok != 0; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            ok = 0;
        } else if (errno == EINPROGRESS) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            int n = poll(&pfd, 1, CONNECT_TIMEOUT_MS);
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (n == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
                ok = 0;
            else
                snprintf(why, whylen, "TCP: %s",
                         n == 0 ? "timed out" : strerror(soerr ? soerr : errno));
        } else {
            snprintf(why, whylen, "TCP: %s", strerror(errno));
        }
        close(fd);
    }
    freeaddrinfo(res);
    return ok;
}

static int check_endpoint(const char *host, int port, struct err *e)
{
    struct poll_schedule ps;
    poll_init(&ps, 0);
    double start = clock_monotonic();
    char why[256];
    for (;;) {
        if (try_connect(host, port, why, sizeof why) == 0) {
            log_info("endpoint %s:%d accepts TCP connections", host, port);
            return 0;
        }
        if (clock_monotonic() - start > CONNECT_GRACE * poll_scale())
            return err_set(e, ERR_CLONE_FAILED,
                           "endpoint %s:%d: %s (checked for %.0f s; security groups and "
                           "clone.publiclyAccessible decide who can connect)",
                           host, port, why, CONNECT_GRACE * poll_scale());
        log_info("endpoint %s:%d: %s; retrying", host, port, why);
        if (signals_sleep(poll_next(&ps)))
            return interrupted(e);
    }
}

static int run_command(struct app *a, struct err *e)
{
    int rc = 0;
    struct waiter w;
    memset(&w, 0, sizeof w);
    w.cfg = &a->cfg;
    w.managed = config_master_password(&a->cfg) == MASTER_PASSWORD_MANAGED;
    cJSON *doc = app_doc(a);
    const char *kind_s = NULL;
    rc = rundoc_get_string(doc, "clone", "id", &w.clone_id, e);
    if (rc == 0)
        rc = rundoc_get_string(doc, "clone", "kind", &kind_s, e);
    if (rc == 0 && rds_cli_parse_kind(kind_s, &w.kind) != 0)
        rc = err_set(e, ERR_INPUT, "clone.kind: \"%s\" is neither instance nor cluster", kind_s);
    if (rc == 0) {
        w.writer_id = w.clone_id;
        if (w.kind == RDS_KIND_CLUSTER) {
            rc = rundoc_get_string(doc, "clone", "writerInstanceId", &w.writer_id, e);
        }
    }
    if (rc == 0 && clone_name_check(w.clone_id, e) != 0) {
        err_prefix(e, "clone.id");
        rc = err_reclassify(e, ERR_INPUT);
    }
    if (rc == 0)
        rc = rds_cli_aws_new(&a->cfg, &w.aws, e);
    if (rc == 0 && a->cli.dry_run) {
        /* One read: the clone of a dry run does not exist. */
        struct rds_instance inst;
        int r = rds_get_instance(w.aws, w.writer_id, &inst, NULL, e);
        if (r == ERR_NOT_FOUND) {
            log_info("dry run: DB instance %s does not exist; would wait until it is available",
                     w.writer_id);
            err_clear(e);
            r = 0;
        } else if (r == 0) {
            log_info("dry run: DB instance %s is %s; would wait until it is available", w.writer_id,
                     inst.status ? inst.status : "?");
        }
        rds_instance_release(&inst);
        rc = r;
        if (rc == 0)
            rc = rundoc_write(doc);
    } else if (rc == 0 && once) {
        rc = load_wait_state(doc, &w, e);
        int available = 0;
        if (rc == 0)
            rc = check_once(&w, &available, e);
        if (rc == 0 && !available) {
            log_info("%s %s: not available yet (status %s); check again later",
                     rds_cli_kind_name(w.kind), w.clone_id,
                     w.last_status ? w.last_status : "not found");
            save_wait_state(doc, &w, "pending");
            rc = rundoc_write(doc);
            if (rc == 0)
                rc = ERR_TRANSIENT; /* "not yet": the document says so too */
        } else if (rc == 0) {
            save_wait_state(doc, &w, "available");
        }
    } else if (rc == 0) {
        double t0 = clock_monotonic();
        rc = wait_available(&w, e);
        log_info("%s %s: %s after %.0f s and %d describe call(s)", rds_cli_kind_name(w.kind),
                 w.clone_id, rc == 0 ? "available" : "not available", clock_monotonic() - t0,
                 w.describes);
    }
    if (rc == 0 && !a->cli.dry_run && w.host) {
        if (check_connect)
            rc = check_endpoint(w.host, w.port, e);
        if (rc == 0) {
            cJSON *ep = cJSON_CreateObject();
            rds_cli_add_string(ep, "host", w.host);
            rds_cli_add_int(ep, "port", w.port);
            rds_cli_add_string(ep, "instanceId", w.writer_id);
            rundoc_set_section(doc, "endpoint", ep);
            rc = rundoc_write(doc);
        }
    }
    free(w.host);
    free(w.last_status);
    rds_cli_aws_free(w.aws);
    return rc;
}

int main(int argc, char **argv)
{
    return app_main(argc, argv, &cmd, required, run_command);
}
