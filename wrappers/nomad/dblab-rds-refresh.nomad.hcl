# DBLab Engine refresh from a temporary RDS/Aurora clone, as a Nomad periodic batch job.
#
# The driver (dblab-rds-refresh) runs the whole pipeline and deletes the clone on
# failure and on SIGTERM. Nomad sends kill_signal on stop and kills after
# kill_timeout. The driver's cleanup budget after a signal is 25 s (it requests
# the clone's deletion and exits; about 22 s at worst); 30 s leaves a 5 s margin
# and is the client's default max_kill_timeout, which caps any longer value.
#
# Secrets come from Nomad Variables (nomad var put nomad/jobs/dblab-rds-refresh
# dblab_token=...) rendered into secrets/ as environment, never into args.
# The state directory lives on a host volume so that a run killed with SIGKILL
# (node lost, OOM) is recovered by the next run on any node sharing the volume.

variable "config_path" {
  type        = string
  default     = "/etc/dblab/rds-refresh.yaml"
  description = "Config file on the client nodes (host path; see docs/wrappers-nomad.md)."
}

variable "task_user" {
  type        = string
  default     = "dblab-rds-refresh"
  description = "Local user on the client nodes that runs the driver and owns the state volume (exec runs tasks as nobody otherwise)."
}

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

job "dblab-rds-refresh" {
  type        = "batch"
  datacenters = var.datacenters

  periodic {
    crons            = ["0 2 * * 0"]
    prohibit_overlap = true
    time_zone        = "UTC"
  }

  group "refresh" {
    count = 1

    # A failed refresh is not blindly repeated: the driver already retries AWS
    # throttling, and a second multi-hour refresh is a decision for a human.
    restart {
      attempts = 0
      mode     = "fail"
    }

    reschedule {
      attempts  = 0
      unlimited = false
    }

    volume "state" {
      type      = "host"
      source    = "dblab-rds-refresh-state"
      read_only = false
    }

    task "refresh" {
      driver = "exec"
      user   = var.task_user

      kill_signal  = "SIGTERM"
      kill_timeout = "30s"

      volume_mount {
        volume      = "state"
        destination = "/var/lib/dblab-rds-refresh"
      }

      config {
        command = "/usr/local/bin/dblab-rds-refresh"
        args = [
          "-config", var.config_path,
          "-state-dir", "/var/lib/dblab-rds-refresh",
          "-metrics-file", "/var/lib/dblab-rds-refresh/dblab_rds_refresh.prom",
          "-log-format", "json",
        ]
      }

      # Secrets as environment, rendered from Nomad Variables into secrets/
      # (not readable by other tasks) and read back by the Nomad client: they
      # reach the driver's environment, never its args. toJSON quotes the value
      # so that a token with #, quotes or backslashes arrives unchanged. Swap
      # nomadVar for a Vault `with secret "kv/data/dblab"` block when Vault
      # holds them. change_mode noop: a token rotated mid-run is used next run.
      template {
        destination = "secrets/dblab.env"
        env         = true
        perms       = "400"
        change_mode = "noop"
        data        = <<-EOT
        {{- with nomadVar "nomad/jobs/dblab-rds-refresh" -}}
        DBLAB_TOKEN={{ .dblab_token | toJSON }}
        {{- end }}
        EOT
      }

      env {
        DBLAB_RDS_REFRESH_CONFIG = var.config_path
        AWS_REGION               = "us-east-1"
      }

      # Measured: the commands peak at a few MiB RSS and use almost no CPU
      # (they wait on AWS and DBLab); see docs/wrappers-nomad.md.
      resources {
        cpu    = 100
        memory = 64
      }

      logs {
        max_files     = 5
        max_file_size = 10
      }
    }
  }
}
