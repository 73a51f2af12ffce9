/* vCPU counts of RDS / Aurora DB instance classes ("db.r6g.2xlarge"), for the
 * `auto` parallelism of dblab-refresh (pg_dump -j against the clone). The size
 * suffix decides it for nearly every family (large = 2, xlarge = 4, Nxlarge =
 * 4N); the burstable families' micro/small and the metal sizes differ per
 * family and are listed. */
#ifndef DRR_INSTANCE_CLASS_H
#define DRR_INSTANCE_CLASS_H

/* vCPUs of the class, or -1 when it cannot be known (not "db.<family>.<size>",
 * an unknown size, db.serverless, a metal size of an unlisted family). */
int instance_class_vcpus(const char *instance_class);

#endif
