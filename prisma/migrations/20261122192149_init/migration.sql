-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('viewer', 'operator', 'approver', 'admin');

-- CreateEnum
CREATE TYPE "ActorType" AS ENUM ('user', 'agent', 'system');

-- CreateEnum
CREATE TYPE "ServingEngine" AS ENUM ('vllm', 'sglang', 'nim', 'llamacpp', 'mlx');

-- CreateEnum
CREATE TYPE "Interconnect" AS ENUM ('nvlink', 'nvswitch', 'pcie', 'infinity_fabric', 'hccs', 'unified_memory');

-- CreateEnum
CREATE TYPE "HealthStatus" AS ENUM ('unknown', 'healthy', 'warning', 'critical', 'offline');

-- CreateEnum
CREATE TYPE "RollupResolution" AS ENUM ('minute', 'hour');

-- CreateEnum
CREATE TYPE "AlertSeverity" AS ENUM ('warning', 'critical');

-- CreateEnum
CREATE TYPE "AlertState" AS ENUM ('open', 'acknowledged', 'resolved');

-- CreateEnum
CREATE TYPE "RepoWatchStatus" AS ENUM ('pending', 'ok', 'unauthorized', 'gated', 'not_found', 'rate_limited', 'unreachable', 'error');

-- CreateEnum
CREATE TYPE "RevisionChangeClass" AS ENUM ('initial', 'weights', 'tokenizer_template', 'docs', 'none');

-- CreateEnum
CREATE TYPE "ArtifactFormat" AS ENUM ('safetensors', 'fp8', 'fp4_fp8', 'gguf', 'awq', 'mlx');

-- CreateEnum
CREATE TYPE "ArtifactStatus" AS ENUM ('building', 'ready', 'failed', 'deleted');

-- CreateEnum
CREATE TYPE "RunState" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "StepKind" AS ENUM ('download', 'quantise', 'validate');

-- CreateEnum
CREATE TYPE "StepState" AS ENUM ('pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped');

-- CreateEnum
CREATE TYPE "RunTrigger" AS ENUM ('auto', 'manual');

-- CreateEnum
CREATE TYPE "Verdict" AS ENUM ('pass', 'fail', 'error', 'skipped');

-- CreateEnum
CREATE TYPE "DeploymentState" AS ENUM ('pending', 'rolling_out', 'active', 'rolled_back', 'retired', 'failed');

-- CreateEnum
CREATE TYPE "ProposalState" AS ENUM ('pending_validation', 'pending_approval', 'approved', 'rejected', 'expired', 'voided', 'rolled_out');

-- CreateEnum
CREATE TYPE "ApprovalDecision" AS ENUM ('approve', 'reject');

-- CreateTable
CREATE TABLE "user" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "email_verified" BOOLEAN NOT NULL DEFAULT false,
    "image" TEXT,
    "role" "Role" NOT NULL DEFAULT 'viewer',
    "disabled_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "session" (
    "id" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "token" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "ip_address" TEXT,
    "user_agent" TEXT,
    "user_id" TEXT NOT NULL,

    CONSTRAINT "session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account" (
    "id" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "provider_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "access_token" TEXT,
    "refresh_token" TEXT,
    "id_token" TEXT,
    "access_token_expires_at" TIMESTAMPTZ(3),
    "refresh_token_expires_at" TIMESTAMPTZ(3),
    "scope" TEXT,
    "password" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "verification" (
    "id" TEXT NOT NULL,
    "identifier" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "verification_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rate_limit" (
    "id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "last_request" BIGINT NOT NULL,

    CONSTRAINT "rate_limit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_event" (
    "id" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" TEXT,
    "actor_label" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target_type" TEXT NOT NULL,
    "target_id" TEXT,
    "before" JSONB,
    "after" JSONB,
    "ip_address" TEXT,

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "setting" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_by_id" TEXT,

    CONSTRAINT "setting_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "site" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "data_residency" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "site_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cluster" (
    "id" TEXT NOT NULL,
    "site_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "serving_engine" "ServingEngine" NOT NULL,
    "engine_version" TEXT NOT NULL,
    "endpoint_url" TEXT,
    "endpoint_api_key_ref" TEXT,
    "served_model_name" TEXT,
    "max_context_tokens" INTEGER NOT NULL DEFAULT 131072,
    "gpu_hourly_cost_usd" DECIMAL(10,4) NOT NULL DEFAULT 0,
    "validation_concurrency_cap" INTEGER NOT NULL DEFAULT 16,
    "health" "HealthStatus" NOT NULL DEFAULT 'unknown',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "cluster_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "node" (
    "id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "ip_address" TEXT,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "driver_version" TEXT,
    "cuda_version" TEXT,
    "agent_version" TEXT,
    "report_interval_seconds" INTEGER NOT NULL DEFAULT 10,
    "last_seen_at" TIMESTAMPTZ(3),
    "health" "HealthStatus" NOT NULL DEFAULT 'unknown',
    "health_reasons" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "node_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "gpu" (
    "id" TEXT NOT NULL,
    "node_id" TEXT NOT NULL,
    "uuid" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "model" TEXT NOT NULL,
    "memory_mib" INTEGER NOT NULL,
    "interconnect" "Interconnect" NOT NULL,
    "pci_bus_id" TEXT,
    "health" "HealthStatus" NOT NULL DEFAULT 'unknown',
    "health_reasons" JSONB NOT NULL DEFAULT '[]',
    "last_sample_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "gpu_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "gpu_sample" (
    "gpu_id" TEXT NOT NULL,
    "sampled_at" TIMESTAMPTZ(3) NOT NULL,
    "node_id" TEXT NOT NULL,
    "utilization_gpu_pct" DOUBLE PRECISION,
    "utilization_memory_pct" DOUBLE PRECISION,
    "memory_used_mib" INTEGER,
    "memory_total_mib" INTEGER,
    "temperature_c" DOUBLE PRECISION,
    "power_draw_w" DOUBLE PRECISION,
    "power_limit_w" DOUBLE PRECISION,
    "sm_clock_mhz" INTEGER,
    "ecc_corrected_volatile" BIGINT,
    "ecc_uncorrected_volatile" BIGINT,
    "clocks_event_reasons" BIGINT,
    "remapped_rows_correctable" INTEGER,
    "remapped_rows_uncorrectable" INTEGER,
    "remapped_rows_pending" BOOLEAN,
    "remapped_rows_failure" BOOLEAN,

    CONSTRAINT "gpu_sample_pkey" PRIMARY KEY ("gpu_id","sampled_at")
);

-- CreateTable
CREATE TABLE "gpu_rollup" (
    "gpu_id" TEXT NOT NULL,
    "resolution" "RollupResolution" NOT NULL,
    "bucket_start" TIMESTAMPTZ(3) NOT NULL,
    "sample_count" INTEGER NOT NULL,
    "utilization_gpu_avg" DOUBLE PRECISION,
    "utilization_gpu_max" DOUBLE PRECISION,
    "memory_used_mib_avg" DOUBLE PRECISION,
    "memory_used_mib_max" INTEGER,
    "temperature_c_avg" DOUBLE PRECISION,
    "temperature_c_max" DOUBLE PRECISION,
    "power_draw_w_avg" DOUBLE PRECISION,
    "power_draw_w_max" DOUBLE PRECISION,

    CONSTRAINT "gpu_rollup_pkey" PRIMARY KEY ("gpu_id","resolution","bucket_start")
);

-- CreateTable
CREATE TABLE "engine_sample" (
    "id" BIGSERIAL NOT NULL,
    "node_id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "sampled_at" TIMESTAMPTZ(3) NOT NULL,
    "running_requests" DOUBLE PRECISION,
    "waiting_requests" DOUBLE PRECISION,
    "kv_cache_usage_fraction" DOUBLE PRECISION,
    "prompt_tokens_total" DOUBLE PRECISION,
    "generation_tokens_total" DOUBLE PRECISION,
    "ttft_seconds_sum" DOUBLE PRECISION,
    "ttft_seconds_count" DOUBLE PRECISION,

    CONSTRAINT "engine_sample_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "xid_event" (
    "id" TEXT NOT NULL,
    "node_id" TEXT NOT NULL,
    "gpu_id" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "xid" INTEGER NOT NULL,
    "pci_bus_id" TEXT NOT NULL,
    "pid" INTEGER,
    "process_name" TEXT,
    "message" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,

    CONSTRAINT "xid_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ingest_batch" (
    "node_id" TEXT NOT NULL,
    "batch_id" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sample_count" INTEGER NOT NULL,

    CONSTRAINT "ingest_batch_pkey" PRIMARY KEY ("node_id","batch_id")
);

-- CreateTable
CREATE TABLE "join_token" (
    "id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "token_prefix" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "used_by_node_id" TEXT,
    "revoked_at" TIMESTAMPTZ(3),
    "created_by_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "join_token_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "node_credential" (
    "id" TEXT NOT NULL,
    "node_id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "token_prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "node_credential_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert" (
    "id" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "active_key" TEXT,
    "rule" TEXT NOT NULL,
    "severity" "AlertSeverity" NOT NULL,
    "state" "AlertState" NOT NULL DEFAULT 'open',
    "title" TEXT NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',
    "cluster_id" TEXT,
    "node_id" TEXT,
    "gpu_id" TEXT,
    "opened_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "acknowledged_at" TIMESTAMPTZ(3),
    "acknowledged_by_id" TEXT,
    "resolved_at" TIMESTAMPTZ(3),
    "notified_at" TIMESTAMPTZ(3),

    CONSTRAINT "alert_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_family" (
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "total_params_b" DOUBLE PRECISION NOT NULL,
    "active_params_b" DOUBLE PRECISION NOT NULL,
    "context_length" INTEGER NOT NULL,
    "licence" TEXT NOT NULL DEFAULT 'MIT',
    "api_price_input_per_m" DECIMAL(10,4),
    "api_price_output_per_m" DECIMAL(10,4),
    "api_price_cache_hit_per_m" DECIMAL(10,4),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "model_family_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tracked_repo" (
    "id" TEXT NOT NULL,
    "family_id" TEXT NOT NULL,
    "hub_repo_id" TEXT NOT NULL,
    "branch" TEXT NOT NULL DEFAULT 'main',
    "file_patterns" TEXT[],
    "hub_endpoint" TEXT,
    "access_token_secret_ref" TEXT,
    "access_token_encrypted" TEXT,
    "auto_start_pipelines" BOOLEAN NOT NULL DEFAULT false,
    "targets" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "status" "RepoWatchStatus" NOT NULL DEFAULT 'pending',
    "status_message" TEXT,
    "last_checked_at" TIMESTAMPTZ(3),
    "last_seen_sha" TEXT,
    "next_check_after" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tracked_repo_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_revision" (
    "id" TEXT NOT NULL,
    "tracked_repo_id" TEXT NOT NULL,
    "commit_sha" TEXT NOT NULL,
    "commit_title" TEXT NOT NULL DEFAULT '',
    "committed_at" TIMESTAMPTZ(3),
    "previous_revision_id" TEXT,
    "change_class" "RevisionChangeClass" NOT NULL,
    "diff" JSONB NOT NULL DEFAULT '{}',
    "bytes_to_fetch" BIGINT NOT NULL DEFAULT 0,
    "total_bytes" BIGINT NOT NULL DEFAULT 0,
    "detected_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_revision_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "revision_file" (
    "id" TEXT NOT NULL,
    "revision_id" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "sha256" TEXT,
    "git_oid" TEXT,

    CONSTRAINT "revision_file_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "artifact" (
    "id" TEXT NOT NULL,
    "revision_id" TEXT NOT NULL,
    "format" "ArtifactFormat" NOT NULL,
    "quantisation" TEXT NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "digest" TEXT NOT NULL,
    "storage_uri" TEXT NOT NULL,
    "recipe" JSONB,
    "requirements" JSONB NOT NULL DEFAULT '{}',
    "status" "ArtifactStatus" NOT NULL DEFAULT 'ready',
    "produced_by_run_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "artifact_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "artifact_file" (
    "id" TEXT NOT NULL,
    "artifact_id" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "sha256" TEXT NOT NULL,

    CONSTRAINT "artifact_file_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pipeline_run" (
    "id" TEXT NOT NULL,
    "revision_id" TEXT NOT NULL,
    "target_key" TEXT NOT NULL,
    "trigger" "RunTrigger" NOT NULL,
    "triggered_by_id" TEXT,
    "state" "RunState" NOT NULL DEFAULT 'queued',
    "summary" TEXT NOT NULL DEFAULT '',
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "cancel_requested_at" TIMESTAMPTZ(3),

    CONSTRAINT "pipeline_run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pipeline_step" (
    "id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "kind" "StepKind" NOT NULL,
    "target_key" TEXT NOT NULL DEFAULT 'default',
    "position" INTEGER NOT NULL,
    "state" "StepState" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "job_id" TEXT,
    "progress" JSONB NOT NULL DEFAULT '{}',
    "error" TEXT,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3),

    CONSTRAINT "pipeline_step_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pipeline_log" (
    "id" BIGSERIAL NOT NULL,
    "step_id" TEXT NOT NULL,
    "logged_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "level" TEXT NOT NULL,
    "message" TEXT NOT NULL,

    CONSTRAINT "pipeline_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "validation_suite" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "checks" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "validation_suite_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "validation_run" (
    "id" TEXT NOT NULL,
    "suite_id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "artifact_id" TEXT,
    "baseline_run_id" TEXT,
    "pipeline_run_id" TEXT,
    "requested_by_id" TEXT,
    "state" "RunState" NOT NULL DEFAULT 'queued',
    "verdict" "Verdict",
    "summary" TEXT NOT NULL DEFAULT '',
    "context" JSONB NOT NULL DEFAULT '{}',
    "evidence_digest" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "cancel_requested_at" TIMESTAMPTZ(3),

    CONSTRAINT "validation_run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "validation_check_result" (
    "id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "check_key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "required" BOOLEAN NOT NULL DEFAULT true,
    "state" "StepState" NOT NULL DEFAULT 'pending',
    "verdict" "Verdict",
    "score" DOUBLE PRECISION,
    "thresholds" JSONB NOT NULL DEFAULT '{}',
    "metrics" JSONB NOT NULL DEFAULT '{}',
    "samples" JSONB NOT NULL DEFAULT '[]',
    "explanation" TEXT NOT NULL DEFAULT '',
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "validation_check_result_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deployment" (
    "id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "node_id" TEXT,
    "artifact_id" TEXT NOT NULL,
    "proposal_id" TEXT,
    "previous_deployment_id" TEXT,
    "state" "DeploymentState" NOT NULL DEFAULT 'pending',
    "started_by_id" TEXT,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(3),

    CONSTRAINT "deployment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "upgrade_proposal" (
    "id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "artifact_id" TEXT NOT NULL,
    "artifact_digest" TEXT NOT NULL,
    "validation_run_id" TEXT,
    "requested_by_id" TEXT NOT NULL,
    "state" "ProposalState" NOT NULL DEFAULT 'pending_approval',
    "reason" TEXT NOT NULL DEFAULT '',
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decided_at" TIMESTAMPTZ(3),

    CONSTRAINT "upgrade_proposal_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "approval" (
    "id" TEXT NOT NULL,
    "proposal_id" TEXT NOT NULL,
    "approver_id" TEXT NOT NULL,
    "decision" "ApprovalDecision" NOT NULL,
    "comment" TEXT NOT NULL DEFAULT '',
    "artifact_digest" TEXT NOT NULL,
    "evidence_digest" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "approval_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_message" (
    "id" TEXT NOT NULL,
    "queue" TEXT NOT NULL,
    "job_name" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatched_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "outbox_message_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "user_email_key" ON "user"("email");

-- CreateIndex
CREATE UNIQUE INDEX "session_token_key" ON "session"("token");

-- CreateIndex
CREATE INDEX "session_user_id_idx" ON "session"("user_id");

-- CreateIndex
CREATE INDEX "session_expires_at_idx" ON "session"("expires_at");

-- CreateIndex
CREATE INDEX "account_user_id_idx" ON "account"("user_id");

-- CreateIndex
CREATE INDEX "verification_identifier_idx" ON "verification"("identifier");

-- CreateIndex
CREATE UNIQUE INDEX "rate_limit_key_key" ON "rate_limit"("key");

-- CreateIndex
CREATE INDEX "audit_event_occurred_at_idx" ON "audit_event"("occurred_at" DESC);

-- CreateIndex
CREATE INDEX "audit_event_action_occurred_at_idx" ON "audit_event"("action", "occurred_at");

-- CreateIndex
CREATE INDEX "audit_event_target_type_target_id_idx" ON "audit_event"("target_type", "target_id");

-- CreateIndex
CREATE INDEX "audit_event_actor_id_occurred_at_idx" ON "audit_event"("actor_id", "occurred_at");

-- CreateIndex
CREATE UNIQUE INDEX "site_name_key" ON "site"("name");

-- CreateIndex
CREATE UNIQUE INDEX "cluster_name_key" ON "cluster"("name");

-- CreateIndex
CREATE INDEX "cluster_site_id_idx" ON "cluster"("site_id");

-- CreateIndex
CREATE UNIQUE INDEX "node_cluster_id_hostname_key" ON "node"("cluster_id", "hostname");

-- CreateIndex
CREATE UNIQUE INDEX "gpu_uuid_key" ON "gpu"("uuid");

-- CreateIndex
CREATE INDEX "gpu_node_id_idx" ON "gpu"("node_id");

-- CreateIndex
CREATE INDEX "gpu_sample_sampled_at_idx" ON "gpu_sample"("sampled_at");

-- CreateIndex
CREATE INDEX "gpu_sample_node_id_sampled_at_idx" ON "gpu_sample"("node_id", "sampled_at");

-- CreateIndex
CREATE INDEX "gpu_rollup_resolution_bucket_start_idx" ON "gpu_rollup"("resolution", "bucket_start");

-- CreateIndex
CREATE INDEX "engine_sample_cluster_id_sampled_at_idx" ON "engine_sample"("cluster_id", "sampled_at");

-- CreateIndex
CREATE INDEX "engine_sample_node_id_sampled_at_idx" ON "engine_sample"("node_id", "sampled_at");

-- CreateIndex
CREATE UNIQUE INDEX "xid_event_fingerprint_key" ON "xid_event"("fingerprint");

-- CreateIndex
CREATE INDEX "xid_event_gpu_id_occurred_at_idx" ON "xid_event"("gpu_id", "occurred_at");

-- CreateIndex
CREATE INDEX "ingest_batch_received_at_idx" ON "ingest_batch"("received_at");

-- CreateIndex
CREATE UNIQUE INDEX "join_token_token_hash_key" ON "join_token"("token_hash");

-- CreateIndex
CREATE INDEX "join_token_cluster_id_idx" ON "join_token"("cluster_id");

-- CreateIndex
CREATE UNIQUE INDEX "node_credential_token_hash_key" ON "node_credential"("token_hash");

-- CreateIndex
CREATE INDEX "node_credential_node_id_idx" ON "node_credential"("node_id");

-- CreateIndex
CREATE UNIQUE INDEX "alert_active_key_key" ON "alert"("active_key");

-- CreateIndex
CREATE INDEX "alert_state_severity_idx" ON "alert"("state", "severity");

-- CreateIndex
CREATE INDEX "alert_fingerprint_idx" ON "alert"("fingerprint");

-- CreateIndex
CREATE UNIQUE INDEX "model_family_slug_key" ON "model_family"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "tracked_repo_hub_repo_id_branch_key" ON "tracked_repo"("hub_repo_id", "branch");

-- CreateIndex
CREATE INDEX "model_revision_tracked_repo_id_detected_at_idx" ON "model_revision"("tracked_repo_id", "detected_at");

-- CreateIndex
CREATE UNIQUE INDEX "model_revision_tracked_repo_id_commit_sha_key" ON "model_revision"("tracked_repo_id", "commit_sha");

-- CreateIndex
CREATE INDEX "revision_file_sha256_idx" ON "revision_file"("sha256");

-- CreateIndex
CREATE UNIQUE INDEX "revision_file_revision_id_path_key" ON "revision_file"("revision_id", "path");

-- CreateIndex
CREATE UNIQUE INDEX "artifact_digest_key" ON "artifact"("digest");

-- CreateIndex
CREATE INDEX "artifact_revision_id_idx" ON "artifact"("revision_id");

-- CreateIndex
CREATE INDEX "artifact_file_sha256_idx" ON "artifact_file"("sha256");

-- CreateIndex
CREATE UNIQUE INDEX "artifact_file_artifact_id_path_key" ON "artifact_file"("artifact_id", "path");

-- CreateIndex
CREATE INDEX "pipeline_run_state_created_at_idx" ON "pipeline_run"("state", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "pipeline_run_revision_id_target_key_key" ON "pipeline_run"("revision_id", "target_key");

-- CreateIndex
CREATE UNIQUE INDEX "pipeline_step_run_id_kind_target_key_key" ON "pipeline_step"("run_id", "kind", "target_key");

-- CreateIndex
CREATE INDEX "pipeline_log_step_id_id_idx" ON "pipeline_log"("step_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "validation_suite_name_version_key" ON "validation_suite"("name", "version");

-- CreateIndex
CREATE INDEX "validation_run_cluster_id_created_at_idx" ON "validation_run"("cluster_id", "created_at");

-- CreateIndex
CREATE INDEX "validation_run_state_idx" ON "validation_run"("state");

-- CreateIndex
CREATE UNIQUE INDEX "validation_check_result_run_id_check_key_key" ON "validation_check_result"("run_id", "check_key");

-- CreateIndex
CREATE INDEX "deployment_cluster_id_state_idx" ON "deployment"("cluster_id", "state");

-- CreateIndex
CREATE INDEX "upgrade_proposal_cluster_id_state_idx" ON "upgrade_proposal"("cluster_id", "state");

-- CreateIndex
CREATE UNIQUE INDEX "approval_proposal_id_approver_id_key" ON "approval"("proposal_id", "approver_id");

-- CreateIndex
CREATE INDEX "outbox_message_dispatched_at_created_at_idx" ON "outbox_message"("dispatched_at", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_message_queue_job_id_key" ON "outbox_message"("queue", "job_id");

-- AddForeignKey
ALTER TABLE "session" ADD CONSTRAINT "session_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account" ADD CONSTRAINT "account_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_event" ADD CONSTRAINT "audit_event_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cluster" ADD CONSTRAINT "cluster_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "site"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "node" ADD CONSTRAINT "node_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "gpu" ADD CONSTRAINT "gpu_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "gpu_sample" ADD CONSTRAINT "gpu_sample_gpu_id_fkey" FOREIGN KEY ("gpu_id") REFERENCES "gpu"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "gpu_sample" ADD CONSTRAINT "gpu_sample_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "gpu_rollup" ADD CONSTRAINT "gpu_rollup_gpu_id_fkey" FOREIGN KEY ("gpu_id") REFERENCES "gpu"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "engine_sample" ADD CONSTRAINT "engine_sample_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "engine_sample" ADD CONSTRAINT "engine_sample_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "xid_event" ADD CONSTRAINT "xid_event_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "xid_event" ADD CONSTRAINT "xid_event_gpu_id_fkey" FOREIGN KEY ("gpu_id") REFERENCES "gpu"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ingest_batch" ADD CONSTRAINT "ingest_batch_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "join_token" ADD CONSTRAINT "join_token_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "join_token" ADD CONSTRAINT "join_token_used_by_node_id_fkey" FOREIGN KEY ("used_by_node_id") REFERENCES "node"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "join_token" ADD CONSTRAINT "join_token_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "node_credential" ADD CONSTRAINT "node_credential_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert" ADD CONSTRAINT "alert_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert" ADD CONSTRAINT "alert_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert" ADD CONSTRAINT "alert_gpu_id_fkey" FOREIGN KEY ("gpu_id") REFERENCES "gpu"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert" ADD CONSTRAINT "alert_acknowledged_by_id_fkey" FOREIGN KEY ("acknowledged_by_id") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracked_repo" ADD CONSTRAINT "tracked_repo_family_id_fkey" FOREIGN KEY ("family_id") REFERENCES "model_family"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_revision" ADD CONSTRAINT "model_revision_tracked_repo_id_fkey" FOREIGN KEY ("tracked_repo_id") REFERENCES "tracked_repo"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_revision" ADD CONSTRAINT "model_revision_previous_revision_id_fkey" FOREIGN KEY ("previous_revision_id") REFERENCES "model_revision"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "revision_file" ADD CONSTRAINT "revision_file_revision_id_fkey" FOREIGN KEY ("revision_id") REFERENCES "model_revision"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "artifact" ADD CONSTRAINT "artifact_revision_id_fkey" FOREIGN KEY ("revision_id") REFERENCES "model_revision"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "artifact" ADD CONSTRAINT "artifact_produced_by_run_id_fkey" FOREIGN KEY ("produced_by_run_id") REFERENCES "pipeline_run"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "artifact_file" ADD CONSTRAINT "artifact_file_artifact_id_fkey" FOREIGN KEY ("artifact_id") REFERENCES "artifact"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pipeline_run" ADD CONSTRAINT "pipeline_run_revision_id_fkey" FOREIGN KEY ("revision_id") REFERENCES "model_revision"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pipeline_run" ADD CONSTRAINT "pipeline_run_triggered_by_id_fkey" FOREIGN KEY ("triggered_by_id") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pipeline_step" ADD CONSTRAINT "pipeline_step_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "pipeline_run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pipeline_log" ADD CONSTRAINT "pipeline_log_step_id_fkey" FOREIGN KEY ("step_id") REFERENCES "pipeline_step"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "validation_run" ADD CONSTRAINT "validation_run_suite_id_fkey" FOREIGN KEY ("suite_id") REFERENCES "validation_suite"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "validation_run" ADD CONSTRAINT "validation_run_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "validation_run" ADD CONSTRAINT "validation_run_artifact_id_fkey" FOREIGN KEY ("artifact_id") REFERENCES "artifact"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "validation_run" ADD CONSTRAINT "validation_run_baseline_run_id_fkey" FOREIGN KEY ("baseline_run_id") REFERENCES "validation_run"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "validation_run" ADD CONSTRAINT "validation_run_pipeline_run_id_fkey" FOREIGN KEY ("pipeline_run_id") REFERENCES "pipeline_run"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "validation_run" ADD CONSTRAINT "validation_run_requested_by_id_fkey" FOREIGN KEY ("requested_by_id") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "validation_check_result" ADD CONSTRAINT "validation_check_result_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "validation_run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment" ADD CONSTRAINT "deployment_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment" ADD CONSTRAINT "deployment_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment" ADD CONSTRAINT "deployment_artifact_id_fkey" FOREIGN KEY ("artifact_id") REFERENCES "artifact"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment" ADD CONSTRAINT "deployment_proposal_id_fkey" FOREIGN KEY ("proposal_id") REFERENCES "upgrade_proposal"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment" ADD CONSTRAINT "deployment_previous_deployment_id_fkey" FOREIGN KEY ("previous_deployment_id") REFERENCES "deployment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment" ADD CONSTRAINT "deployment_started_by_id_fkey" FOREIGN KEY ("started_by_id") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "upgrade_proposal" ADD CONSTRAINT "upgrade_proposal_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "upgrade_proposal" ADD CONSTRAINT "upgrade_proposal_artifact_id_fkey" FOREIGN KEY ("artifact_id") REFERENCES "artifact"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "upgrade_proposal" ADD CONSTRAINT "upgrade_proposal_validation_run_id_fkey" FOREIGN KEY ("validation_run_id") REFERENCES "validation_run"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "upgrade_proposal" ADD CONSTRAINT "upgrade_proposal_requested_by_id_fkey" FOREIGN KEY ("requested_by_id") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "approval" ADD CONSTRAINT "approval_proposal_id_fkey" FOREIGN KEY ("proposal_id") REFERENCES "upgrade_proposal"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "approval" ADD CONSTRAINT "approval_approver_id_fkey" FOREIGN KEY ("approver_id") REFERENCES "user"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
