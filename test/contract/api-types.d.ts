// Generated from openapi/openapi.json by testkit/generate-api-types.ts (openapi-typescript).
// Do not edit: `npm run openapi:generate` rewrites it with the spec.
export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: operations["getLiveness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/rerank": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rerank one user’s candidates
         * @description Returns a permutation of exactly the given candidates. LLM faults never become errors: the baseline order is returned with `fallback.reason`.
         */
        post: operations["rerank"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/profiles/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Erase every cached profile of a user */
        delete: operations["deleteUserProfiles"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Report what users did with served lists
         * @description Attributes 1–1,000 outcome events (each an `OutcomeEvent`) to the reranks that served them, by `requestId`. A retried batch counts nothing twice. Unknown or expired request ids are `unattributed` (a call that finds no exposure for some ids waits `EXPOSURE_GATHER_MS` + 200 ms once and looks again first, since an exposure is written a gather after its response); items that were not served are rejected with `ITEM_NOT_EXPOSED`; other invalid events are rejected one by one. A 503 means nothing of the batch may have been stored: retry the same batch.
         */
        post: operations["ingestEvents"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Erase everything held about a user
         * @description Removes the user’s cached profiles, recorded exposures and their events. Later events for those request ids are `unattributed`. The user’s per-user totals in experiment sums are forgotten; aggregate sums keep the past contribution, and an id that reappears counts as a new user. A 503 means the erasure was not completed: retry.
         */
        delete: operations["eraseUser"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/prompts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List prompt versions */
        get: operations["listPrompts"];
        put?: never;
        /** Import a prompt version */
        post: operations["importPrompt"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/prompts/{domain}/{version}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get one prompt version */
        get: operations["getPrompt"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/prompts/{domain}/{version}/activate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Activate a version (rollback = activate an older one) */
        post: operations["activatePrompt"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/training-jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List training jobs */
        get: operations["listTrainingJobs"];
        put?: never;
        /** Start a training job */
        post: operations["submitTrainingJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/training-jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a training job */
        get: operations["getTrainingJob"];
        put?: never;
        post?: never;
        /** Cancel a training job */
        delete: operations["cancelTrainingJob"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/training-jobs/{id}/report": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A training job's report (Markdown)
         * @description Written when the job completes, is cancelled, or stops because the LLM was unavailable.
         */
        get: operations["getTrainingJobReport"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/training-jobs/{id}/report/ndcg.svg": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A training job's NDCG@10 chart (SVG) */
        get: operations["getTrainingJobChart"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/training-jobs/{id}/trace": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A training job's LLM call trace (JSONL)
         * @description Grows while the job runs; kept as long as the job is listed.
         */
        get: operations["getTrainingJobTrace"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/experiments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List experiments, newest first */
        get: operations["listExperiments"];
        put?: never;
        /**
         * Start an A/B, interleaving or shadow experiment
         * @description At most one running experiment per domain, shadow included (409 EXPERIMENT_ALREADY_RUNNING), and EXPERIMENTS_MAX_RUNNING in all (409 TOO_MANY_RUNNING_EXPERIMENTS). A pinned promptVersion must exist (400 UNKNOWN_PROMPT_VERSION). Mode `shadow` takes exactly one (candidate) arm: it is never served; a sampled share of the domain’s reranks is reranked with it off the request path, within `shadow.maxConcurrency` and `shadow.llmCallsPerHour`.
         */
        post: operations["createExperiment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/experiments/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An experiment with its per-arm results and always-valid decision
         * @description Safe to read as often as you like: the confidence intervals and the decision are always-valid (docs/experiments.md). `baselineOrder` is a position-biased counterfactual, not a result. A shadow experiment answers its scores in `shadow` (agreement with the served order, and a counterfactual labelled `biased`); reading it reads one stored exposure per retained record.
         */
        get: operations["getExperiment"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/experiments/{id}/stop": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Stop a running experiment (its users return to normal serving) */
        post: operations["stopExperiment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/experiments/{id}/promote": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Activate an arm’s prompt version for the domain and stop the experiment */
        post: operations["promoteExperimentArm"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/datasets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Build a training set from recorded exposures and events
         * @description Streams the domain’s exposures of the window; one canonical JSONL row per exposure with a positive event (docs/loop.md).
         */
        post: operations["buildDataset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/schedules/{domain}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A domain’s schedule with its next firing, pin and current run */
        get: operations["getSchedule"];
        /**
         * Create or replace the retraining schedule of a domain
         * @description A PUT replaces the whole schedule: fields left out take their defaults. The queue’s job scheduler follows at once; a run in progress keeps the schedule it started with.
         */
        put: operations["putSchedule"];
        post?: never;
        /**
         * Delete a schedule and cancel its run in progress
         * @description Removes the job scheduler; a run in progress ends `cancelled` and its canary experiment is stopped (the active version is unchanged).
         */
        delete: operations["deleteSchedule"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/schedules": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every retraining schedule, by domain */
        get: operations["listSchedules"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/schedules/{domain}/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Pause a schedule (a run in progress goes on) */
        post: operations["pauseSchedule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/schedules/{domain}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Resume a paused schedule */
        post: operations["resumeSchedule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/schedules/{domain}/run": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Start a run of the schedule now */
        post: operations["runSchedule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/schedules/{domain}/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A domain’s runs, newest first */
        get: operations["listScheduleRuns"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A domain’s audit trail, newest first
         * @description One record per automatic step or decision of the loop and per operator action: what happened, why, with which numbers, when and by whom. Page with `before` = the previous page’s `next`.
         */
        get: operations["listAuditRecords"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/pins": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Pinned domains */
        get: operations["listPins"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/pins/{domain}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Pin a domain to a prompt version
         * @description Activates the version when it is not active. While pinned, no run starts and nothing is promoted automatically (the loop or `activate: if-better`).
         */
        put: operations["pinDomain"];
        post?: never;
        /** Unpin a domain */
        delete: operations["unpinDomain"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List API keys with their usage (no key material) */
        get: operations["listApiKeys"];
        put?: never;
        /**
         * Create an API key (shown once)
         * @description Answers the key in `key` this once; only its sha256 is stored. 409 when the name exists (revoked names stay taken) or keys come from API_KEYS_FILE.
         */
        post: operations["createApiKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/api-keys/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One API key with its usage */
        get: operations["getApiKey"];
        put?: never;
        post?: never;
        /**
         * Revoke an API key
         * @description The key (and a previous key in its rotation grace period) stops working on every replica within API_KEYS_POLL_MS. Idempotent.
         */
        delete: operations["revokeApiKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/api-keys/{name}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Replace an API key by a new one (shown once)
         * @description The previous key stops working at once, or after `graceSeconds` so callers can switch over. Name, limits and usage are kept.
         */
        post: operations["rotateApiKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        HistoryItemInput: {
            /** @description Item id, unique within the list. */
            id: string;
            /** @description Untrusted display title; truncated in prompts. */
            title: string;
            /** @description Optional untrusted description; truncated in prompts. */
            text?: string;
        };
        CandidateInput: {
            /** @description Item id, unique within the list. */
            id: string;
            /** @description Untrusted display title; truncated in prompts. */
            title: string;
            /** @description Optional untrusted description; truncated in prompts. */
            text?: string;
            /** @description The baseline recommender's score. */
            score?: number;
        };
        RerankRequestInput: {
            userId: string;
            /** @description Oldest first; the last N are used. */
            history: components["schemas"]["HistoryItemInput"][];
            /** @description The baseline recommender's top-k, in its order. Ids must be unique. */
            candidates: components["schemas"]["CandidateInput"][];
            /** @default default */
            domain?: string;
            /** @description Return only the first N. */
            topN?: number;
            /**
             * @default agp
             * @enum {string}
             */
            method?: "agp" | "direct" | "cot" | "baseline";
            /** @description Caller's budget; capped by the server maximum. */
            deadlineMs?: number;
            /** @default false */
            includeProfile?: boolean;
            /** @description Listwise passes over seeded shuffles of the candidates (seeded by the requestId), run in parallel and aggregated by Borda count to cancel position bias. Default: the domain default (RERANK_SHUFFLES_DOMAINS) or RERANK_SHUFFLES_DEFAULT; values above RERANK_SHUFFLES_MAX are clamped to it. */
            shuffles?: number;
            /** @description The model that ranks, one of the server allow-list LLM_MODELS (else 400 UNKNOWN_MODEL); default: the configured rerank model. Profiles keep the profile model. */
            model?: string;
        };
        PromptVersionInput: {
            domain: string;
            version: string;
            text: string;
            /** @default null */
            parentVersion?: string | null;
            /** Format: date-time */
            createdAt?: string;
            /** @default 10 */
            historyLength?: number;
            params?: {
                [key: string]: unknown;
            };
            metrics?: {
                [key: string]: unknown;
            };
        };
        TrainingParamsInput: {
            /** @description Must equal the job's `domain` when given. */
            domain?: string;
            /**
             * @description Passes over the training users.
             * @default 10
             */
            epochs?: number;
            /**
             * @description Users per optimisation step.
             * @default 10
             */
            batchSize?: number;
            /**
             * @description History items per user given to the profile step (the last N).
             * @default 5
             */
            historyLength?: number;
            /**
             * @description Training users used (after the validation hold-out).
             * @default 100
             */
            trainUsers?: number;
            /**
             * @description 0: accept every usable edit; 1..3: re-run the batch and keep the edit only if the mean rank improves, with up to N summarise/edit tries.
             * @default 1
             */
            verifySteps?: number;
            /**
             * @description Fraction (0.01-0.99) held out for validation when no validation set is given.
             * @default 0.2
             */
            valFraction?: number;
            /** @description Number of validation users (held out, or a cap on the given validation set). */
            valUsers?: number;
            /**
             * @description Seed for shuffling and the hold-out split.
             * @default 42
             */
            seed?: number;
            /** @description Users processed at once. Default: TRAINING_CONCURRENCY (server setting). */
            concurrency?: number;
            /**
             * @description structured: position feedback goes straight to the summariser; llm: one "reason" call per user not ranked first (authors' code).
             * @default structured
             * @enum {string}
             */
            reasons?: "structured" | "llm";
            /** @description Per-role model overrides. */
            models?: {
                [key: string]: string;
            };
            /** @description Total LLM call ceiling across the run (resumes included). */
            maxLlmCalls?: number;
            /** @description Total token ceiling (checked before each call; calls in flight may overshoot slightly). */
            maxTokens?: number;
            /**
             * @description Stop after this many epochs without a validation gain (0 disables).
             * @default 3
             */
            patience?: number;
            /**
             * @description Budget for one user's profile + rerank, in ms.
             * @default 120000
             */
            userTimeoutMs?: number;
            /**
             * @description Budget for one summarise / edit / reason call, in ms.
             * @default 300000
             */
            optimizerTimeoutMs?: number;
            /**
             * @description Completion token cap of the optimizer calls.
             * @default 1024
             */
            optimizerMaxTokens?: number;
            /**
             * @description Stop when this many consecutive batches lost every user to LLM errors.
             * @default 3
             */
            maxDeadBatches?: number;
        };
        TrainingJobRequestInput: {
            domain: string;
            dataset: {
                users: unknown[];
            } | {
                path: string;
            };
            validation?: {
                users: unknown[];
            } | {
                path: string;
            };
            /** @default {} */
            params?: components["schemas"]["TrainingParamsInput"];
            /**
             * @default never
             * @enum {string}
             */
            activate?: "never" | "if-better";
        };
        EventsRequestInput: {
            /** @description 1–1000 events, each an OutcomeEvent; an event that is not valid is rejected on its own (see `rejected`). */
            events: unknown[];
        };
        ExperimentCreateInput: {
            domain: string;
            /** @enum {string} */
            mode: "ab" | "interleave";
            /** @description The first arm is the control. Interleaving takes exactly two. */
            arms: {
                name: string;
                /** @enum {string} */
                method: "agp" | "direct" | "cot" | "baseline";
                /** @description Pinned version; default: whatever is active. */
                promptVersion?: string;
                /** @description Relative share of users (ab); default 1. */
                weight?: number;
            }[];
            /** @description Share of the domain’s users in the experiment; default 1. */
            trafficShare?: number;
            /** @description Per-arm limits; an arm over one (after minExposures) stops the experiment. Defaults come from EXPERIMENT_* settings. */
            guardrails?: {
                maxFallbackRate?: number;
                maxLatencyP99Ms?: number;
                maxLlmCallsPerExposure?: number;
                minExposures?: number;
            };
        } | {
            domain: string;
            /** @enum {string} */
            mode: "shadow";
            /** @description Exactly one arm: the candidate, scored off the request path and never served. */
            arms: {
                name: string;
                /** @enum {string} */
                method: "agp" | "direct" | "cot" | "baseline";
                /** @description Pinned version; default: whatever is active. */
                promptVersion?: string;
            }[];
            /** @description Share of the domain’s live reranks sampled for scoring (by requestId), in (0, 1]; default 1. The hourly LLM-call budget caps the cost either way. */
            trafficShare?: number;
            shadow?: {
                /** @description Candidate reranks in flight at once per API replica; default 4. */
                maxConcurrency?: number;
                /** @description LLM calls the candidate may make per clock hour (UTC), over all replicas; default 1000. */
                llmCallsPerHour?: number;
            };
        };
        PromoteRequestInput: {
            arm: string;
        };
        DatasetBuildRequestInput: {
            /** @description The domain whose exposures are read. */
            domain: string;
            /** @description Start of the window (inclusive); default `until` minus EXPOSURE_TTL_SECONDS. */
            since?: number | string;
            /** @description End of the window (exclusive); default now. */
            until?: number | string;
            /** @description Event types that make an item positive; only the full set click, add_to_cart, purchase is supported (exposures keep positive counts per item, not per type). */
            positiveTypes?: ("impression" | "click" | "add_to_cart" | "purchase")[];
            /** @description Most distinct users in the dataset; exposures of further users are skipped (`skipped.maxUsers`). */
            maxUsers?: number;
        };
        ApiKeyCreateInput: {
            /** @description 1–63 characters of a-z, 0-9, `_` and `-`: the label of the key in limits, usage and metrics. */
            name: string;
            /** @description Requests per RATE_LIMIT_WINDOW_MS for this key; absent: RATE_LIMIT_MAX (0 and absent: unlimited). */
            rateLimit?: number;
            /** @description LLM calls per UTC day; past it /v1/rerank answers the baseline order with `fallback.reason: quota_exceeded`. Absent: unlimited. */
            dailyLlmCallQuota?: number;
        };
        ApiKeyRotateInput: {
            /**
             * @description How long the previous key keeps working (0, the default: revoked at once).
             * @default 0
             */
            graceSeconds?: number;
        };
        ScheduleDraftInput: {
            /** @description Run this often (at least 1 minute); give either `every` or `cron`: milliseconds, or a duration such as "90s", "30m", "6h", "7d". */
            every?: string | number;
            /** @description A cron expression of 5 fields (minute hour day-of-month month day-of-week) or a macro such as "@daily"; give either `every` or `cron`. */
            cron?: string;
            /** @description IANA time zone of `cron` (default UTC). */
            tz?: string;
            /** @description The dataset window: exposures of this long before the run (at most EXPOSURE_TTL_SECONDS): milliseconds, or a duration such as "90s", "30m", "6h", "7d". */
            window: string | number;
            /** @description Trainer parameters of the runs (as for POST /admin/v1/training-jobs). */
            params?: {
                /** @description Must equal the schedule's domain when given. */
                domain?: string;
                /**
                 * @description Passes over the training users.
                 * @default 10
                 */
                epochs?: number;
                /**
                 * @description Users per optimisation step.
                 * @default 10
                 */
                batchSize?: number;
                /**
                 * @description History items per user given to the profile step (the last N).
                 * @default 5
                 */
                historyLength?: number;
                /**
                 * @description Training users used (after the validation hold-out).
                 * @default 100
                 */
                trainUsers?: number;
                /**
                 * @description 0: accept every usable edit; 1..3: re-run the batch and keep the edit only if the mean rank improves, with up to N summarise/edit tries.
                 * @default 1
                 */
                verifySteps?: number;
                /**
                 * @description Fraction (0.01-0.99) held out for validation when no validation set is given.
                 * @default 0.2
                 */
                valFraction?: number;
                /** @description Number of validation users (held out, or a cap on the given validation set). */
                valUsers?: number;
                /**
                 * @description Seed for shuffling and the hold-out split.
                 * @default 42
                 */
                seed?: number;
                /** @description Users processed at once. Default: TRAINING_CONCURRENCY (server setting). */
                concurrency?: number;
                /**
                 * @description structured: position feedback goes straight to the summariser; llm: one "reason" call per user not ranked first (authors' code).
                 * @default structured
                 * @enum {string}
                 */
                reasons?: "structured" | "llm";
                /** @description Per-role model overrides. */
                models?: {
                    [key: string]: string;
                };
                /** @description Total LLM call ceiling across the run (resumes included). */
                maxLlmCalls?: number;
                /** @description Total token ceiling (checked before each call; calls in flight may overshoot slightly). */
                maxTokens?: number;
                /**
                 * @description Stop after this many epochs without a validation gain (0 disables).
                 * @default 3
                 */
                patience?: number;
                /**
                 * @description Budget for one user's profile + rerank, in ms.
                 * @default 120000
                 */
                userTimeoutMs?: number;
                /**
                 * @description Budget for one summarise / edit / reason call, in ms.
                 * @default 300000
                 */
                optimizerTimeoutMs?: number;
                /**
                 * @description Completion token cap of the optimizer calls.
                 * @default 1024
                 */
                optimizerMaxTokens?: number;
                /**
                 * @description Stop when this many consecutive batches lost every user to LLM errors.
                 * @default 3
                 */
                maxDeadBatches?: number;
            };
            /** @description The offline gate on held-out users. */
            gate?: {
                /** @description The candidate passes when the lower bound of the 95% CI of its per-user NDCG@10 gain is above this (default 0). */
                minDelta?: number;
                /** @description Share of the dataset’s users held out for the gate, never trained on (0 < share ≤ 0.9; default 0.2). */
                holdoutShare?: number;
                /** @description Fewer held-out users than this ends the run `no_data` (default 20). */
                minHoldoutUsers?: number;
                /** @description Paired-bootstrap resamples (default 2000). */
                bootstrapIterations?: number;
            };
            /** @description The canary on live traffic. */
            rollout?: {
                /** @description Traffic share of the canary experiment (0 < share ≤ 1; default 0.1). */
                share?: number;
                /** @description A canary without a decision after this long is rolled back (default 7d): milliseconds, or a duration such as "90s", "30m", "6h", "7d". */
                maxDuration?: string | number;
                /** @description How often the canary’s results are read (default LOOP_DECISION_INTERVAL_MS): milliseconds, or a duration such as "90s", "30m", "6h", "7d". */
                decisionInterval?: string | number;
                /** @description Guardrails of the canary experiment; default: the EXPERIMENT_* settings. */
                guardrails?: {
                    maxFallbackRate?: number;
                    maxLatencyP99Ms?: number;
                    maxLlmCallsPerExposure?: number;
                    minExposures?: number;
                };
            };
            /** @description A paused schedule does not fire (default false). */
            paused?: boolean;
        };
        PinRequestInput: {
            /** @description A stored prompt version of the domain; activated if it is not active. */
            version: string;
            /** @description Why, for the audit trail. */
            reason?: string;
        };
        /**
         * @description Why the baseline order was served: the LLM is not configured, timed out, failed, answered unparseably, was overloaded or its circuit is open; or `quota_exceeded`: the API key used its daily LLM-call quota (no LLM call was made).
         * @enum {string}
         */
        FallbackReason: "llm_unconfigured" | "timeout" | "llm_error" | "unparseable" | "overloaded" | "circuit_open" | "quota_exceeded";
        RerankResponse: {
            ranking: {
                id: string;
                /** @description 1-based position after reranking. */
                rank: number;
                /** @description 1-based position in the request. */
                baseRank: number;
                /** @description Under an interleaving experiment: the arm that contributed this item. */
                arm?: string;
                /** @description Relevance in [0, 1], higher is better: the normalised Borda points over the successful passes, sum of (n − 1 − position) / (passes × (n − 1)); with one pass (n − 1 − position) / (n − 1); 1 when n = 1. Rounded to 4 decimals. A fallback scores the baseline position. Under interleaving, the control arm’s score. */
                score: number;
            }[];
            /** @description How much the passes agreed: mean pairwise Kendall’s tau mapped to [0, 1] as (tau + 1) / 2. Null with fewer than 2 successful passes. */
            agreement: number | null;
            /** @description Passes run (after clamping to RERANK_SHUFFLES_MAX; 0 for baseline) and passes that produced a usable ranking. */
            passes: {
                requested: number;
                succeeded: number;
            };
            /** @description The experiment this answer was served under, or null (no running experiment, or the user is outside its traffic share). */
            experiment: {
                id: string;
                /** @description The A/B arm served; null under interleaving (see ranking[i].arm). */
                arm: string | null;
            } | null;
            /** @enum {string} */
            method: "agp" | "direct" | "cot" | "baseline";
            promptVersion: string;
            fallback: {
                reason: components["schemas"]["FallbackReason"];
            } | null;
            /** @description True when the LLM's answer was usable only after repair. */
            repaired: boolean;
            /** @description Null when the answer used no profile: methods without one (baseline, direct, cot), agp with an empty history (no profile call), and agp answers that fell back before a profile existed (e.g. llm_unconfigured). */
            profile: {
                cached: boolean;
                stale?: boolean;
                text?: string;
            } | null;
            usage: {
                llmCalls: number;
                promptTokens: number;
                completionTokens: number;
            };
            timingsMs: {
                total: number;
                profile?: number;
                rerank?: number;
            };
            /**
             * @description Where the ranking came from: `hit` the result cache and `coalesced` an identical ranking in flight (no LLM call counted in `usage` for it), `miss` the LLM, `off` no result cache (RERANK_CACHE_TTL_SECONDS=0, or no LLM ranking: baseline, fallback before ranking).
             * @enum {string}
             */
            cache: "hit" | "miss" | "coalesced" | "off";
            /** @description The model that produced the ranking (also for a cached one); null when none did (baseline, fallback). */
            model: string | null;
            requestId: string;
        };
        ErrorResponse: {
            error: {
                /** @description Stable machine-readable code. */
                code: string;
                message: string;
                requestId: string;
            };
        };
        TrainingJob: {
            jobId: string;
            domain: string;
            /** @enum {string} */
            state: "queued" | "running" | "completed" | "failed" | "cancelled";
            createdAt: string;
            startedAt?: string;
            finishedAt?: string;
            progress: {
                epoch: number;
                batch: number;
                totalBatches?: number;
                llmCalls: number;
                tokens: number;
                etaSeconds: number | null;
                phase?: string;
            };
            metrics: {
                [key: string]: unknown;
            };
            result?: {
                promptVersion: string;
                activated: boolean;
                metrics: {
                    [key: string]: unknown;
                };
                /**
                 * @description Set when `activate: 'if-better'` found the version better but the domain is pinned (PUT /admin/v1/pins/{domain})
                 * @enum {string}
                 */
                activationSkipped?: "pinned";
            };
            error?: string;
        };
        EventsResponse: {
            /** @description Events counted now. */
            accepted: number;
            /** @description Events already counted (by eventId, or by requestId, itemId and type). */
            duplicates: number;
            /** @description Events whose requestId is unknown, expired or erased (not an error). */
            unattributed: number;
            rejected: {
                index: number;
                /** @enum {string} */
                code: "INVALID_EVENT" | "INVALID_EVENT_TYPE" | "INVALID_TS" | "ITEM_NOT_EXPOSED";
                message: string;
            }[];
        };
        EraseUserResponse: {
            userId: string;
            /** @description Cached profiles removed. */
            profiles: number;
            /** @description Recorded exposures (with their events) removed. */
            exposures: number;
        };
        Experiment: {
            id: string;
            domain: string;
            /** @enum {string} */
            mode: "ab" | "interleave" | "shadow";
            trafficShare: number;
            /** @description Per-arm limits; always empty for a shadow experiment (nothing is served). */
            guardrails: {
                maxFallbackRate?: number;
                maxLatencyP99Ms?: number;
                maxLlmCallsPerExposure?: number;
                minExposures?: number;
            };
            /** @enum {string} */
            state: "running" | "stopped";
            /** @description Epoch ms. */
            createdAt: number;
            stoppedAt: number | null;
            stopReason: {
                /** @enum {string} */
                kind: "manual" | "promoted" | "guardrail";
                message: string;
                arm?: string;
            } | null;
            arms: {
                name: string;
                /** @enum {string} */
                method: "agp" | "direct" | "cot" | "baseline";
                promptVersion?: string;
                weight?: number;
            }[];
            /** @description Mode shadow only: its settings, defaults filled in. */
            shadow?: {
                /** @description Candidate reranks in flight at once per API replica; default 4. */
                maxConcurrency: number;
                /** @description LLM calls the candidate may make per clock hour (UTC), over all replicas; default 1000. */
                llmCallsPerHour: number;
            };
        };
        ExperimentList: {
            experiments: components["schemas"]["Experiment"][];
        };
        ExperimentResults: {
            id: string;
            domain: string;
            /** @enum {string} */
            mode: "ab" | "interleave" | "shadow";
            trafficShare: number;
            /** @description Per-arm limits; always empty for a shadow experiment (nothing is served). */
            guardrails: {
                maxFallbackRate?: number;
                maxLatencyP99Ms?: number;
                maxLlmCallsPerExposure?: number;
                minExposures?: number;
            };
            /** @enum {string} */
            state: "running" | "stopped";
            /** @description Epoch ms. */
            createdAt: number;
            stoppedAt: number | null;
            stopReason: {
                /** @enum {string} */
                kind: "manual" | "promoted" | "guardrail";
                message: string;
                arm?: string;
            } | null;
            arms: {
                name: string;
                /** @enum {string} */
                method: "agp" | "direct" | "cot" | "baseline";
                promptVersion: (string | null) | (number | null);
                users: number;
                exposures: number;
                llmCallsPerExposure: number;
                fallbackRate: number;
                /** @description Upper bound of the histogram bucket holding the p99. */
                latencyP99Ms: number | null;
                metrics: {
                    ctr: {
                        value: number;
                        ci95: (number)[];
                    };
                    mrr: {
                        value: number;
                        ci95: (number)[];
                    };
                    "ndcg@10": {
                        value: number;
                        ci95: (number)[];
                    };
                };
                baselineOrder: {
                    ctr: {
                        value: number;
                        ci95: (number)[];
                    };
                    mrr: {
                        value: number;
                        ci95: (number)[];
                    };
                    "ndcg@10": {
                        value: number;
                        ci95: (number)[];
                    };
                    /** @description counterfactual: the served exposures scored as if the baseline order had been shown; position-biased (users could only click what they were shown, where it was shown), not an unbiased estimate */
                    label: string;
                };
            }[];
            comparison: ({
                /** @enum {string} */
                metric: "ndcg@10";
                control: {
                    arm: string;
                    value: number;
                };
                treatment: {
                    arm: string;
                    value: number;
                };
                diff: number;
                ci95: (number)[];
                /** @enum {string} */
                decision: "treatment" | "control" | "inconclusive";
                /** @description Always-valid p-value (running minimum over looks). */
                pValue: number;
            } | {
                control: string;
                treatment: string;
                wins: number;
                losses: number;
                ties: number;
                /** @description (wins − losses) / (wins + losses), in [−1, 1]. */
                preference: number;
                ci95: (number)[];
                /** @enum {string} */
                decision: "treatment" | "control" | "inconclusive";
                pValue: number;
            }) | null;
            /** @description With more than two ab arms: each treatment against the control (Bonferroni). */
            comparisons?: {
                /** @enum {string} */
                metric: "ndcg@10";
                control: {
                    arm: string;
                    value: number;
                };
                treatment: {
                    arm: string;
                    value: number;
                };
                diff: number;
                ci95: (number)[];
                /** @enum {string} */
                decision: "treatment" | "control" | "inconclusive";
                /** @description Always-valid p-value (running minimum over looks). */
                pValue: number;
            }[];
            guardrailBreaches: {
                arm: string;
                /** @enum {string} */
                guardrail: "fallbackRate" | "latencyP99Ms" | "llmCallsPerExposure";
                value: number;
                limit: number;
                reason: string;
            }[];
            /** @description Mode shadow only (then `arms` is empty and `comparison` null: nothing was served). */
            shadow?: {
                /** @description Candidate reranks in flight at once per API replica; default 4. */
                maxConcurrency: number;
                /** @description LLM calls the candidate may make per clock hour (UTC), over all replicas; default 1000. */
                llmCallsPerHour: number;
                /** @description The candidate arm. */
                arm: {
                    name: string;
                    method: string;
                    promptVersion: string | null;
                };
                /** @description Sampled reranks the candidate ranked (over every replica). */
                scored: number;
                /** @description Sampled reranks that were not scored, by why. */
                skipped: {
                    /** @description Not scored: the hour’s LLM-call budget was spent. */
                    budget: number;
                    /** @description Not scored: the replica’s shadow queue was full. */
                    queueFull: number;
                    /** @description The candidate fell back (LLM error, timeout or junk answer). */
                    failed: number;
                };
                /** @description LLM calls the candidate made. */
                llmCalls: number;
                /** @description Scored records kept for the counterfactual (the newest, at most 50,000). */
                retained: number;
                agreement: {
                    /** @description Mean Kendall’s tau between the candidate’s and the served order of the served items, in [−1, 1]. */
                    kendallTau: {
                        value: number;
                        ci95: (number)[];
                    };
                };
                /** @description Position-biased towards the served order: a screening check, not a lift estimate. ctr is equal for both by construction. */
                counterfactual: {
                    /** @enum {boolean} */
                    biased: true;
                    /** @description biased: the positives were observed on the served list, where users saw the served order; items the served order put high got more attention, so this favours the served order and is a screening check, not an estimate of lift */
                    note: string;
                    /** @description Retained records whose exposure is still stored. */
                    exposures: number;
                    exposuresWithPositives: number;
                    /** @description The served lists, against their positives. */
                    served: {
                        ctr: {
                            value: number;
                            ci95: (number)[];
                        };
                        mrr: {
                            value: number;
                            ci95: (number)[];
                        };
                        "ndcg@10": {
                            value: number;
                            ci95: (number)[];
                        };
                    };
                    /** @description The candidate’s order of the same items, against the same positives. */
                    candidate: {
                        ctr: {
                            value: number;
                            ci95: (number)[];
                        };
                        mrr: {
                            value: number;
                            ci95: (number)[];
                        };
                        "ndcg@10": {
                            value: number;
                            ci95: (number)[];
                        };
                    };
                    /** @description Candidate − served, paired per exposure, in [−1, 1]. */
                    diff: {
                        ctr: {
                            value: number;
                            ci95: (number)[];
                        };
                        mrr: {
                            value: number;
                            ci95: (number)[];
                        };
                        "ndcg@10": {
                            value: number;
                            ci95: (number)[];
                        };
                    };
                };
            };
        };
        PromoteResponse: {
            experiment: components["schemas"]["Experiment"];
            /** @description The prompt version activated, or null when the arm pins none. */
            activated: string | null;
        };
        DatasetBuildResponse: {
            /** @description The JSONL file, relative to TRAINING_DATA_DIR: pass it as a training job’s `dataset.path`. */
            path: string;
            /** @description Rows written: one per exposure with a positive event. */
            rows: number;
            /** @description Distinct users among the rows. */
            users: number;
            /** @description Exposures read from the window. */
            exposures: number;
            /** @description Rows written with some history items left out (their catalogue titles expired). */
            partialHistory: number;
            /** @description Exposures not written, by reason. */
            skipped: {
                noPositive: number;
                noHistory: number;
                /** @description A candidate’s title (or every history title) was no longer in the item catalogue: the row was not written. */
                titleExpired: number;
                maxUsers: number;
            };
        };
        ApiKeyUsage: {
            reranks: number;
            llmCalls: number;
            promptTokens: number;
            completionTokens: number;
            /** @description LLM calls of the current UTC day (what the daily quota counts). */
            llmCallsToday: number;
        };
        ApiKey: {
            name: string;
            /** @description The first 8 characters of the key (empty for API_KEYS_FILE keys). */
            prefix: string;
            /** @description The last 4 characters of the key (empty for API_KEYS_FILE keys). */
            last4: string;
            createdAt: string;
            revokedAt: string | null;
            rateLimit: number | null;
            dailyLlmCallQuota: number | null;
            /** @description After a rotation with a grace period: when the previous key stops working. */
            previousKeyExpiresAt: string | null;
            usage: components["schemas"]["ApiKeyUsage"];
        };
        ApiKeyList: {
            apiKeys: components["schemas"]["ApiKey"][];
        };
        ApiKeySecret: {
            /** @description The key itself: shown in this answer only, never again (only its sha256 is stored). */
            key: string;
            apiKey: components["schemas"]["ApiKey"];
        };
        StoredSchedule: {
            domain: string;
            windowMs: number;
            /** @description Trainer parameters of the runs. */
            params: {
                [key: string]: unknown;
            };
            gate: {
                minDelta: number;
                holdoutShare: number;
                minHoldoutUsers: number;
                bootstrapIterations: number;
            };
            paused: boolean;
            /**
             * @description `config`: written from LOOP_SCHEDULES at start.
             * @enum {string}
             */
            source: "api" | "config";
            /** @description Epoch ms. */
            createdAt: number;
            /** @description Epoch ms. */
            updatedAt: number;
            everyMs?: number;
            cron?: string;
            tz?: string;
            rollout: {
                share: number;
                maxDurationMs: number;
                /** @description Absent: LOOP_DECISION_INTERVAL_MS. */
                decisionIntervalMs?: number;
                /** @description Absent: the EXPERIMENT_* defaults. */
                guardrails?: {
                    maxFallbackRate?: number;
                    maxLatencyP99Ms?: number;
                    maxLlmCallsPerExposure?: number;
                    minExposures?: number;
                };
            };
        };
        Pin: {
            domain: string;
            version: string;
            reason: string;
            /** @description Epoch ms. */
            at: number;
        };
        Schedule: {
            domain: string;
            windowMs: number;
            /** @description Trainer parameters of the runs. */
            params: {
                [key: string]: unknown;
            };
            gate: {
                minDelta: number;
                holdoutShare: number;
                minHoldoutUsers: number;
                bootstrapIterations: number;
            };
            paused: boolean;
            /**
             * @description `config`: written from LOOP_SCHEDULES at start.
             * @enum {string}
             */
            source: "api" | "config";
            /** @description Epoch ms. */
            createdAt: number;
            /** @description Epoch ms. */
            updatedAt: number;
            /** @description Set when the schedule runs every so often; else `cron` is. */
            everyMs: number | null;
            cron: string | null;
            tz: string | null;
            rollout: {
                share: number;
                maxDurationMs: number;
                /** @description The schedule’s, else LOOP_DECISION_INTERVAL_MS. */
                decisionIntervalMs: number;
                /** @description Absent: the EXPERIMENT_* defaults. */
                guardrails?: {
                    maxFallbackRate?: number;
                    maxLatencyP99Ms?: number;
                    maxLlmCallsPerExposure?: number;
                    minExposures?: number;
                };
            };
            /** @description When the queue fires the schedule next (ISO 8601); null when paused. */
            nextRunAt: string | null;
            /** @description The domain’s pin: no run starts and nothing is promoted while it holds. */
            pinned: {
                domain: string;
                version: string;
                reason: string;
                /** @description Epoch ms. */
                at: number;
            } | null;
            /** @description The domain’s latest run (in progress, or how it ended). */
            currentRun: {
                runId: string;
                /** @enum {string} */
                trigger: "schedule" | "manual";
                /** @enum {string} */
                step: "dataset" | "train" | "gate" | "canary" | "decide" | "done";
                /** @description Epoch ms. */
                startedAt: number;
                /** @description Epoch ms. */
                updatedAt: number;
                baseVersion: string;
                candidateVersion: string | null;
                experimentId: string | null;
                /** @enum {string|null} */
                outcome: "promoted" | "rolled_back" | "not_better" | "no_data" | "pinned" | "cancelled" | "failed" | null;
                reason: string | null;
                finishedAt: number | null;
            } | null;
        };
        ScheduleList: {
            schedules: components["schemas"]["Schedule"][];
        };
        LoopRun: {
            runId: string;
            domain: string;
            /** @enum {string} */
            trigger: "schedule" | "manual";
            /** @description Epoch ms. */
            startedAt: number;
            /** @description Epoch ms. */
            updatedAt: number;
            /**
             * @description The step it is at; `done` once it ended (see `outcome`).
             * @enum {string}
             */
            step: "dataset" | "train" | "gate" | "canary" | "decide" | "done";
            /** @description The active version when it started: the warm start, and the control of the gate and the canary. */
            baseVersion: string;
            /** @description The schedule as it was when the run started. */
            schedule: components["schemas"]["StoredSchedule"];
            dataset?: {
                path: string;
                holdoutPath: string;
                rows: number;
                users: number;
                holdoutUsers: number;
                skipped: {
                    [key: string]: number;
                };
            };
            trainingJobId?: string;
            candidateVersion?: string;
            gate?: {
                passed: boolean;
                users: number;
                activeNdcg: number;
                candidateNdcg: number;
                diff: number;
                ci95: (number)[];
                minDelta: number;
                llmCalls: number;
            };
            /** @description The canary experiment (GET /admin/v1/experiments/{id}). */
            experimentId?: string;
            canaryStartedAt?: number;
            /** @description Set while the canary waits for another experiment of the domain to end (epoch ms). */
            canaryWaitingSince?: number;
            /** @enum {string} */
            outcome?: "promoted" | "rolled_back" | "not_better" | "no_data" | "pinned" | "cancelled" | "failed";
            reason?: string;
            finishedAt?: number;
        };
        LoopRunList: {
            runs: components["schemas"]["LoopRun"][];
        };
        LoopRunAccepted: {
            runId: string;
        };
        AuditRecord: {
            /** @description Time-ordered within the domain; pass it as `before` to read older records. */
            id: string;
            /** @description Epoch ms. */
            at: number;
            domain: string;
            /** @enum {string} */
            kind: "run_started" | "dataset_built" | "trained" | "gated" | "candidate_registered" | "canary_started" | "promoted" | "rolled_back" | "run_ended" | "skipped" | "schedule_changed" | "paused" | "resumed" | "pinned" | "unpinned";
            runId: string | null;
            /**
             * @description `loop`: an automatic step; `admin`: a person through this API; `config`: LOOP_SCHEDULES at start.
             * @enum {string}
             */
            actor: "loop" | "admin" | "config";
            message: string;
            /** @description The numbers behind it (rows, NDCG, CI, p-value, experiment id, version…). */
            data: {
                [key: string]: unknown;
            };
        };
        AuditPage: {
            records: components["schemas"]["AuditRecord"][];
            /** @description `before` of the next page; null on the last one. */
            next: string | null;
        };
        PinList: {
            pins: components["schemas"]["Pin"][];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getLiveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is up. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ok";
                    };
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready (`degraded` when Redis is down: reranks still work without the shared cache). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ready" | "degraded" | "not_ready";
                        checks: {
                            /** @enum {string} */
                            redis: "ok" | "down" | "not_configured";
                            /** @enum {string} */
                            prompts: "loaded" | "lost" | "not_loaded";
                            /** @enum {string} */
                            llm: "configured" | "unconfigured";
                        };
                        activePrompts: {
                            [key: string]: string;
                        };
                    };
                };
            };
            /** @description Not ready (prompts not loaded yet) or shedding load. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ready" | "degraded" | "not_ready";
                        checks: {
                            /** @enum {string} */
                            redis: "ok" | "down" | "not_configured";
                            /** @enum {string} */
                            prompts: "loaded" | "lost" | "not_loaded";
                            /** @enum {string} */
                            llm: "configured" | "unconfigured";
                        };
                        activePrompts: {
                            [key: string]: string;
                        };
                    } | components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    rerank: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "userId": "user-42",
                 *       "domain": "movies",
                 *       "history": [
                 *         {
                 *           "id": "m-101",
                 *           "title": "Before Sunrise",
                 *           "text": "Two strangers talk their way through one night in Vienna."
                 *         },
                 *         {
                 *           "id": "m-102",
                 *           "title": "Lost in Translation"
                 *         }
                 *       ],
                 *       "candidates": [
                 *         {
                 *           "id": "m-201",
                 *           "title": "Notting Hill",
                 *           "score": 0.82
                 *         },
                 *         {
                 *           "id": "m-202",
                 *           "title": "Dune",
                 *           "score": 0.79
                 *         },
                 *         {
                 *           "id": "m-203",
                 *           "title": "Arrival",
                 *           "score": 0.77
                 *         }
                 *       ],
                 *       "method": "agp",
                 *       "topN": 2,
                 *       "includeProfile": true,
                 *       "shuffles": 3
                 *     }
                 */
                "application/json": components["schemas"]["RerankRequestInput"];
            };
        };
        responses: {
            /** @description A permutation of exactly the given candidates, each with a `score` in [0, 1], and the passes’ `agreement`. LLM faults are not errors: the baseline order comes back with `fallback.reason`; so does a call past its API key’s daily LLM-call quota (`quota_exceeded`, no LLM call). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RerankResponse"];
                };
            };
            /** @description Invalid request (`VALIDATION_ERROR`, `INVALID_JSON`, `DUPLICATE_CANDIDATE_ID`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description API keys are on and the `Authorization: Bearer` key is missing, wrong or revoked (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`). */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Over the rate limit of this API key (its `rateLimit`, else RATE_LIMIT_MAX) or, with keys off, of this client (`RATE_LIMITED`); retry after `Retry-After` seconds. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    deleteUserProfiles: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                userId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Erased: `deleted` counts the cached entries removed (0 when there were none). Generations in flight for the user are not cached afterwards. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        userId: string;
                        deleted: number;
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description API keys are on and the `Authorization: Bearer` key is missing, wrong or revoked (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The profile store is unavailable: nothing was erased; retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    ingestEvents: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "events": [
                 *         {
                 *           "requestId": "req-7f3a",
                 *           "itemId": "m-201",
                 *           "type": "impression",
                 *           "eventId": "ev-1",
                 *           "ts": 1767225600000
                 *         },
                 *         {
                 *           "requestId": "req-7f3a",
                 *           "itemId": "m-201",
                 *           "type": "click",
                 *           "eventId": "ev-2",
                 *           "ts": 1767225604000
                 *         },
                 *         {
                 *           "requestId": "req-7f3a",
                 *           "itemId": "m-203",
                 *           "type": "purchase"
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["EventsRequestInput"];
            };
        };
        responses: {
            /** @description Counted: `accepted` now, `duplicates` already counted, `unattributed` (unknown, expired or erased requestId; not an error) and `rejected` events with their index and code. Retrying the same batch is safe. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EventsResponse"];
                };
            };
            /** @description The envelope is invalid: `events` missing, empty or over 1,000 entries (`VALIDATION_ERROR`, `INVALID_JSON`). A bad event inside a valid envelope is `rejected`, not a 400. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description API keys are on and the `Authorization: Bearer` key is missing, wrong or revoked (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`). */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Over RATE_LIMIT_MAX for this client (`RATE_LIMITED`); retry after `Retry-After` seconds. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load, or the exposure store is unavailable: part of the batch may be unstored; retry the same batch (deduplication makes it safe). */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    eraseUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                userId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Erased: `profiles` and `exposures` count what was removed (0 when there was nothing). The user’s totals in experiment sums are forgotten too; aggregates keep their past contribution. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EraseUserResponse"];
                };
            };
            /** @description Invalid userId (empty, or over 256 characters) (`VALIDATION_ERROR`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description API keys are on and the `Authorization: Bearer` key is missing, wrong or revoked (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description A store is unavailable: the erasure was not completed; retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listPrompts: {
        parameters: {
            query?: {
                domain?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every stored prompt version (of `domain` when given), with `active` flags. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        prompts: {
                            domain: string;
                            version: string;
                            active: boolean;
                            parentVersion: string | null;
                            createdAt: string;
                            historyLength: number;
                            metrics: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    importPrompt: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "domain": "movies",
                 *       "version": "v2",
                 *       "parentVersion": "v1",
                 *       "text": "Describe the viewer in four sentences: favourite genres, tone, eras, and what they avoid.",
                 *       "historyLength": 10
                 *     }
                 */
                "application/json": components["schemas"]["PromptVersionInput"];
            };
        };
        responses: {
            /** @description Stored, not active. Re-importing identical content is a no-op and also answers 201. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        domain: string;
                        version: string;
                        active: boolean;
                        parentVersion: string | null;
                        createdAt: string;
                        historyLength: number;
                        metrics: {
                            [key: string]: unknown;
                        };
                        text: string;
                        params?: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description This domain/version already holds a different text (`CONFLICT`); versions are immutable. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`). */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getPrompt: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                domain: string;
                version: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The prompt version with its text. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        domain: string;
                        version: string;
                        active: boolean;
                        parentVersion: string | null;
                        createdAt: string;
                        historyLength: number;
                        metrics: {
                            [key: string]: unknown;
                        };
                        text: string;
                        params?: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such prompt version (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    activatePrompt: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                domain: string;
                version: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Active for its domain; every replica serves it within PROMPT_REFRESH_MS. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        domain: string;
                        version: string;
                        /** @enum {boolean} */
                        active: true;
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such prompt version (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listTrainingJobs: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Known training jobs, newest first. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        jobs: components["schemas"]["TrainingJob"][];
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Training is not available in this process (`SERVICE_UNAVAILABLE`). */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    submitTrainingJob: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "domain": "movies",
                 *       "dataset": {
                 *         "path": "movies/train.jsonl"
                 *       },
                 *       "validation": {
                 *         "path": "movies/val.jsonl"
                 *       },
                 *       "params": {
                 *         "epochs": 3,
                 *         "batchSize": 10,
                 *         "trainUsers": 100,
                 *         "verifySteps": 1,
                 *         "maxLlmCalls": 5000
                 *       },
                 *       "activate": "if-better"
                 *     }
                 */
                "application/json": components["schemas"]["TrainingJobRequestInput"];
            };
        };
        responses: {
            /** @description Queued: poll GET /admin/v1/training-jobs/{id} with the returned `jobId`. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        jobId: string;
                    };
                };
            };
            /** @description Invalid request, `params` or dataset: a file missing or outside TRAINING_DATA_DIR, malformed users, nothing left to train on (`VALIDATION_ERROR`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`). */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Training is not available in this process (`SERVICE_UNAVAILABLE`). */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getTrainingJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job: state, progress, and the result once finished. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TrainingJob"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such job (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    cancelTrainingJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Cancelled: a queued job never starts; a running one has its LLM calls aborted and ends `cancelled`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        jobId: string;
                        cancelled: boolean;
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such job (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The job has already finished (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getTrainingJobReport: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The training report in Markdown (as `agp train` writes report.md), with the NDCG@10 chart inline as SVG. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/markdown": string;
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getTrainingJobChart: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The NDCG@10 per epoch chart of the training report (ndcg.svg). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "image/svg+xml": string;
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getTrainingJobTrace: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every LLM call of the job so far, one JSON object per line (seq, role, model, requestHash, response, tokens, latency, error), as `agp train` writes trace.jsonl. `x-trace-truncated: true` when the trace reached its size bound (8 MiB). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": string;
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listExperiments: {
        parameters: {
            query?: {
                domain?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Experiments (of `domain` when given), newest first, running and stopped, without results. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExperimentList"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    createExperiment: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "domain": "movies",
                 *       "mode": "ab",
                 *       "arms": [
                 *         {
                 *           "name": "control",
                 *           "method": "baseline"
                 *         },
                 *         {
                 *           "name": "agp-v2",
                 *           "method": "agp",
                 *           "promptVersion": "v2"
                 *         }
                 *       ],
                 *       "trafficShare": 0.2,
                 *       "guardrails": {
                 *         "maxFallbackRate": 0.1,
                 *         "maxLatencyP99Ms": 3000
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ExperimentCreateInput"];
            };
        };
        responses: {
            /** @description Running: every replica serves it within EXPERIMENT_POLL_MS. Guardrails not given take the EXPERIMENT_* defaults. A shadow experiment has no guardrails, `shadow` holds its settings with the defaults filled in, and serving is unchanged. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Experiment"];
                };
            };
            /** @description Invalid experiment: arm names not unique, interleaving without exactly two arms, no positive weight, shadow without exactly one arm, shadow settings out of range or a trafficShare of 0 (`VALIDATION_ERROR`), or a pinned promptVersion that does not exist (`UNKNOWN_PROMPT_VERSION`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The domain already has a running experiment (`EXPERIMENT_ALREADY_RUNNING`), or EXPERIMENTS_MAX_RUNNING are running (`TOO_MANY_RUNNING_EXPERIMENTS`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`). */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getExperiment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The experiment, per-arm results, the comparison with its always-valid decision, and guardrail breaches. Safe to read at any time. A shadow experiment: `arms` empty, `comparison` null, its scores in `shadow`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExperimentResults"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such experiment (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    stopExperiment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Stopped (`stopReason.kind` = `manual`); its users return to normal serving within EXPERIMENT_POLL_MS. Results stay readable. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Experiment"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such experiment (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The experiment is not running (already stopped, promoted or stopped by a guardrail) (`EXPERIMENT_NOT_RUNNING`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    promoteExperimentArm: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "arm": "agp-v2"
                 *     }
                 */
                "application/json": components["schemas"]["PromoteRequestInput"];
            };
        };
        responses: {
            /** @description The arm’s pinned promptVersion is active for the domain (`activated`; null when the arm pins none, so nothing changed) and the experiment is stopped (`stopReason.kind` = `promoted`). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PromoteResponse"];
                };
            };
            /** @description The experiment has no arm of that name, is a shadow experiment (its arm was never served), or the body is invalid (`VALIDATION_ERROR`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such experiment (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The experiment is not running (`EXPERIMENT_NOT_RUNNING`); nothing was activated. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`). */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    buildDataset: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "domain": "movies",
                 *       "since": "2026-11-27T00:00:00Z",
                 *       "until": "2026-12-04T00:00:00Z",
                 *       "maxUsers": 50000
                 *     }
                 */
                "application/json": components["schemas"]["DatasetBuildRequestInput"];
            };
        };
        responses: {
            /** @description Written under TRAINING_DATA_DIR: `path` is ready for a training job. Rows whose titles expired from the item catalogue are counted in `skipped.titleExpired`, never silently dropped. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DatasetBuildResponse"];
                };
            };
            /** @description Invalid body, an empty window, or positiveTypes other than the full positive set (`VALIDATION_ERROR`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`). */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The exposure store or the item catalogue is unavailable; no file was left behind. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                domain: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The schedule with its next firing, pin and current run. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The domain has no schedule (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    putSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                domain: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "cron": "0 3 * * 1",
                 *       "tz": "Europe/Paris",
                 *       "window": "7d",
                 *       "params": {
                 *         "epochs": 2,
                 *         "batchSize": 10,
                 *         "trainUsers": 100,
                 *         "maxLlmCalls": 5000
                 *       },
                 *       "gate": {
                 *         "minDelta": 0,
                 *         "holdoutShare": 0.2
                 *       },
                 *       "rollout": {
                 *         "share": 0.1,
                 *         "maxDuration": "3d",
                 *         "decisionInterval": "5m",
                 *         "guardrails": {
                 *           "maxFallbackRate": 0.1
                 *         }
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["ScheduleDraftInput"];
            };
        };
        responses: {
            /** @description Replaced: the job scheduler follows at once (`nextRunAt`). A run in progress keeps the schedule it started with. Audited (`schedule_changed`). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description Created, with the defaults filled in and `nextRunAt`. Audited (`schedule_changed`). */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description Invalid schedule: both or neither of `every` and `cron`, `every` under 1 minute, a bad cron or time zone, a window longer than EXPOSURE_TTL_SECONDS, a share out of range, a misspelt field or trainer parameter (`VALIDATION_ERROR`, naming the field). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Scheduled retraining needs Redis (REDIS_URL or QUEUE_REDIS_URL); the embedded default has none (`SCHEDULES_UNAVAILABLE`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`). */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    deleteSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                domain: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted: no more firings; a run in progress ended `cancelled` (its canary stopped, the active version unchanged). Audited. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The domain has no schedule (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listSchedules: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every schedule, by domain, with its next firing, pin and current run (empty without Redis). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ScheduleList"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    pauseSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                domain: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Paused (`nextRunAt` null); a run in progress goes on. Audited (`paused`), also when it already was. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The domain has no schedule (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Scheduled retraining needs Redis (`SCHEDULES_UNAVAILABLE`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    resumeSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                domain: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Resumed, with its next firing. Audited (`resumed`). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The domain has no schedule (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Scheduled retraining needs Redis (`SCHEDULES_UNAVAILABLE`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    runSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                domain: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The run began (`run_started` in the audit trail) and is queued; follow it with GET …/runs and GET /admin/v1/audit?runId=. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LoopRunAccepted"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The domain has no schedule (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description A run of the domain is in progress (`RUN_IN_PROGRESS`), the domain is pinned (`DOMAIN_PINNED`), or there is no queue Redis (`SCHEDULES_UNAVAILABLE`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listScheduleRuns: {
        parameters: {
            query?: {
                /** @description Most runs returned, newest first (the last 50 finished runs are kept). */
                limit?: number;
            };
            header?: never;
            path: {
                domain: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The run in progress and the last finished ones (up to 50), newest first, each with what it made: dataset, training job, candidate, gate numbers, canary, outcome. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LoopRunList"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The domain has neither a schedule nor a run (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listAuditRecords: {
        parameters: {
            query: {
                domain: string;
                limit?: number;
                /** @description An audit record id: records older than it (the previous page’s `next`). */
                before?: string;
                /** @description Only the records of this run. */
                runId?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Records newest first (the last 1,000 per domain are kept); `next` pages to older ones. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditPage"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listPins: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every pinned domain with its version and reason. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PinList"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    pinDomain: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                domain: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "version": "v2",
                 *       "reason": "holiday catalogue freeze"
                 *     }
                 */
                "application/json": components["schemas"]["PinRequestInput"];
            };
        };
        responses: {
            /** @description Pinned, and the version active for the domain (activated when it was not). No run starts and nothing is promoted automatically until unpinned. Audited (`pinned`). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Pin"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The prompt version does not exist for the domain (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`). */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    unpinDomain: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                domain: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Unpinned: the loop may change the active version again. Audited (`unpinned`). */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The domain is not pinned (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listApiKeys: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every key, revoked ones too, with limits and usage; no key material (prefix and last 4 characters only). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKeyList"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    createApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "team-search",
                 *       "rateLimit": 200,
                 *       "dailyLlmCallQuota": 50000
                 *     }
                 */
                "application/json": components["schemas"]["ApiKeyCreateInput"];
            };
        };
        responses: {
            /** @description Created: `key` is shown this once (only its sha256 is stored); every replica accepts it within API_KEYS_POLL_MS. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKeySecret"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The name is taken (revoked names too), or keys come from API_KEYS_FILE and are read-only (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The key name. */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The key with its limits and usage (cumulative, and LLM calls of the current UTC day). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKey"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such key (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    revokeApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The key name. */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked (idempotent): refused on every replica within API_KEYS_POLL_MS; usage stays readable. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKey"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such key (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Keys come from API_KEYS_FILE and are read-only (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    rotateApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The key name. */
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "graceSeconds": 3600
                 *     }
                 */
                "application/json": components["schemas"]["ApiKeyRotateInput"];
            };
        };
        responses: {
            /** @description A new key, shown this once; the previous one is refused at once or after `graceSeconds`. Name, limits and usage are kept. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKeySecret"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such key (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The key is revoked, was changed concurrently, or keys come from API_KEYS_FILE (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
}
